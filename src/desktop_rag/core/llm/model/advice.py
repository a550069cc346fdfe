"""What Settings says about the chat model in use, and when a larger one answers better. Pure."""

from __future__ import annotations

from pathlib import PurePath

# Below this a GGUF holds roughly 3B parameters or fewer at the usual 4-5 bit quantizations:
# such models follow simple questions only (measured: the built-in 135M model states the
# fact in about half of benchmarks/answer_quality.py's answers).
SMALL_MODEL_BYTES = 2_000_000_000

LARGER = (
    "A 7B-13B instruct GGUF (for example Llama 3.1 8B Instruct, Qwen2.5 7B Instruct or "
    "Mistral 7B Instruct at Q4_K_M, 4-8 GB) gives much better answers; choose one above "
    "to see how its layers would split between the GPU and the CPU."
)


def model_advice(path: str, size_bytes: int, *, builtin: bool) -> str:
    """One paragraph for the Settings dialog: the model in use and, for a small one, the
    advice to use a larger GGUF. `size_bytes`: the GGUF file's size."""
    name = PurePath(path).stem
    if builtin:
        return (
            f"In use: {name}, the built-in model (135 million parameters). It is quick and "
            "runs on any computer, but answers only simple questions and may stray from "
            "the passages (sentences it cannot trace to them are marked in the chat). " + LARGER
        )
    if size_bytes < SMALL_MODEL_BYTES:
        return f"In use: {name}. Models this small answer simple questions only. " + LARGER
    return f"In use: {name}."
