"""LoRA adapters: the `--lora PATH[:SCALE]` choice, and checking an adapter against the
chat model before llama.cpp loads it.

The checks mirror what llama.cpp's `llama_adapter_lora_init` refuses (src/llama-adapter.cpp):
general.type must be "adapter", adapter.type "lora", the architecture the model's, every
tensor a `.lora_a`/`.lora_b` pair (norm vectors are ignored) naming a weight of the model
with agreeing shapes. llama.cpp would refuse the same files, but only after the model is
loaded and with a line in its log; here the person gets the reason in words first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.llm.model.files import gguf_file_problem
from desktop_rag.core.llm.model.gguf_tensors import read_tensor_shapes

_SCALE = re.compile(r"^(?P<path>.*):(?P<scale>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)$")
_PICK_HINT = "choose a LoRA adapter made for this chat model (convert_lora_to_gguf.py writes one)"
# aLoRA's invocation tokens: llama.cpp refuses anything but an array of uint32.
_ALORA_TOKENS = "adapter.alora.invocation_tokens"
_UINT32_ARRAY = ("array", 4)  # gguf.GGUFValueType.UINT32
# What llama.cpp logs when it refuses an adapter (llama_adapter_lora_init).
_LLAMA_REFUSAL = "failed to apply lora adapter:"


class LoraError(UserFacingError):
    """A LoRA adapter cannot be used with the chat model; the model answers without it."""


@dataclass(frozen=True)
class LoraChoice:
    """An adapter file and how strongly it applies (1.0: as trained; 0.0: not at all)."""

    path: str
    scale: float = 1.0


@dataclass(frozen=True)
class AdapterInfo:
    """What an adapter file says about itself, for the status bar and `doctor`."""

    path: str
    name: str
    architecture: str
    alpha: float  # llama.cpp scales by alpha / rank; 0 means it scales by 1
    n_tensors: int


def parse_lora_arg(text: str) -> LoraChoice:
    """`PATH` or `PATH:SCALE`. Only a trailing `:<number>` is a scale, so Windows paths
    (`C:\\a.gguf`) and names with colons stay paths. Raises ValueError when empty."""
    text = text.strip()
    match = _SCALE.match(text)
    path, scale = (match["path"], float(match["scale"])) if match else (text, 1.0)
    if not path:
        raise ValueError("needs an adapter file: PATH or PATH:SCALE")
    return LoraChoice(path, scale)


def check_adapter(adapter_path: str, base_model_path: str) -> AdapterInfo:
    """The adapter's facts if llama.cpp can apply it to this model; LoraError says why not."""
    path = str(adapter_path)
    fields, tensors = _read_adapter(path)
    kind = fields.get("general.type")
    if kind != "adapter":
        said = f"general.type is {kind!r}" if kind else "it has no general.type"
        raise LoraError(
            f"not a LoRA adapter ({said}; a chat model cannot be used as an adapter)",
            path=path,
            hint=_PICK_HINT,
        )
    if fields.get("adapter.type") != "lora":
        raise LoraError(
            f"an adapter of type {fields.get('adapter.type')!r}, not a LoRA adapter",
            path=path,
            hint=_PICK_HINT,
        )
    if fields.get(_ALORA_TOKENS, _UINT32_ARRAY) != _UINT32_ARRAY:
        raise LoraError(f"{_ALORA_TOKENS} must be a list of token ids", path=path, hint=_PICK_HINT)
    try:
        base_arch, base = read_tensor_shapes(base_model_path)
    except (OSError, ValueError) as exc:
        raise LoraError(
            f"the adapter cannot be checked: the chat model's file cannot be read ({exc})",
            path=str(base_model_path),
        ) from exc
    arch = fields.get("general.architecture") or ""
    if arch != base_arch:
        raise LoraError(
            f"made for the {arch or 'unknown'!r} architecture, but the chat model is {base_arch!r}",
            path=path,
            hint=_PICK_HINT,
        )
    problems = _tensor_problems(tensors, base)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise LoraError(
            f"does not fit the chat model: {problems[0]}{more}", path=path, hint=_PICK_HINT
        )
    alpha = fields.get("adapter.lora.alpha")
    return AdapterInfo(
        path=path,
        name=str(fields.get("general.name") or Path(path).stem),
        architecture=arch,
        alpha=float(alpha) if isinstance(alpha, int | float) else 0.0,
        n_tensors=len(tensors),
    )


def llama_refusal(adapter_path: str, message: str, log_tail: list[str]) -> LoraError:
    """The error for an adapter llama.cpp refused at load, quoting its log line."""
    reason = ""
    for line in reversed(log_tail):
        at = line.lower().find(_LLAMA_REFUSAL)
        if at != -1:
            reason = line[at + len(_LLAMA_REFUSAL) :].strip()
            break
    return LoraError(
        f"llama.cpp could not apply the adapter: {reason or message}",
        path=adapter_path,
        hint=_PICK_HINT,
    )


def _read_adapter(path: str) -> tuple[dict[str, object], dict[str, tuple[int, ...]]]:
    """Metadata and tensor shapes (GGUF order: ne[0] first). Arrays are given as their
    element type only, `("array", GGUFValueType)`: nothing here needs their contents."""
    problem = gguf_file_problem(path, "adapter")
    if problem is not None:
        hint = {
            "missing": "choose the file in Settings",
            "signature": "convert the adapter with llama.cpp's convert_lora_to_gguf.py",
        }.get(problem[1])
        raise LoraError(problem[0], path=path, hint=hint)
    try:
        from gguf import GGUFReader

        # An adapter is small and has no vocabulary: the full reader is quick here.
        reader = GGUFReader(path)
        fields = {name: _value(field) for name, field in reader.fields.items()}
        tensors = {t.name: tuple(int(n) for n in t.shape) for t in reader.tensors}
    except Exception as exc:
        raise LoraError(
            f"not a valid GGUF file ({type(exc).__name__}: {exc})",
            path=path,
            hint="convert the adapter again",
        ) from exc
    return fields, tensors


def _value(field: Any) -> object:
    from gguf import GGUFValueType

    if field.types and field.types[0] == GGUFValueType.ARRAY:
        return ("array", field.types[-1] if len(field.types) > 1 else None)
    return field.contents()


def _tensor_problems(
    tensors: dict[str, tuple[int, ...]], base: dict[str, tuple[int, ...]]
) -> list[str]:
    """Each reason llama.cpp would refuse the adapter's tensors for, in words."""
    pairs: dict[str, dict[str, tuple[int, ...]]] = {}
    problems = []
    for name, shape in tensors.items():
        if name.endswith((".lora_a", ".lora_b")):
            pairs.setdefault(name[:-7], {})[name[-1]] = _ne2(shape)
        elif not name.endswith("_norm.weight"):  # llama.cpp skips norm vectors
            problems.append(f"tensor '{name}' is not a lora_a/lora_b tensor")
    for weight, pair in sorted(pairs.items()):
        if len(pair) < 2:
            missing = "lora_b" if "a" in pair else "lora_a"
            problems.append(f"'{weight}' has no {missing} tensor")
            continue
        if weight not in base:
            problems.append(f"'{weight}' is not a weight of the chat model")
            continue
        (w0, w1), (a0, a1), (b0, b1) = _ne2(base[weight]), pair["a"], pair["b"]
        if weight.endswith("token_embd.weight"):
            # The embedding applies A and B the other way round (llama.cpp's
            # llm_build_inp_embd), so they are checked the other way round.
            fits = w0 == b1 and w1 == a1
        else:
            fits = w0 == a0 and w1 == b1 and a1 == b0
        if not fits:
            problems.append(
                f"'{weight}' has shape {[w0, w1]} in the chat model, but the adapter's "
                f"lora_a is {[a0, a1]} and lora_b {[b0, b1]}"
            )
    return problems


def _ne2(shape: tuple[int, ...]) -> tuple[int, int]:
    """The first two GGUF dimensions; a vector's second is 1, as in ggml."""
    dims = (*shape, 1, 1)
    return int(dims[0]), int(dims[1])
