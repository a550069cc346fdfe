"""Small GGUF files written with the `gguf` package: a tiny base model and LoRA adapters.

Shapes are numpy's (rows, columns); GGUF stores them reversed, so a weight written as
(n_out, n_in) has ne = [n_in, n_out], and an adapter for it has lora_a (rank, n_in) and
lora_b (n_out, rank), as llama.cpp's convert_lora_to_gguf.py writes them.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

N_EMBD, N_KV, N_VOCAB = 8, 4, 32
# The tiny base model's tensors (numpy shapes).
BASE_TENSORS = {
    "token_embd.weight": (N_VOCAB, N_EMBD),
    "blk.0.attn_norm.weight": (N_EMBD,),
    "blk.0.attn_q.weight": (N_EMBD, N_EMBD),
    "blk.0.attn_v.weight": (N_KV, N_EMBD),
}


def write_gguf(
    path: Path,
    tensors: dict[str, np.ndarray],
    *,
    arch: str = "llama",
    general_type: str | None = "adapter",
    adapter_type: str | None = "lora",
    alpha: float | None = 8.0,
    name: str | None = None,
    extra: dict[str, object] | None = None,
) -> Path:
    """A GGUF file with these tensors and metadata (None leaves a key out)."""
    writer = gguf.GGUFWriter(str(path), arch)
    if general_type is not None:
        writer.add_type(general_type)
    if adapter_type is not None:
        writer.add_string("adapter.type", adapter_type)
    if alpha is not None:
        writer.add_float32("adapter.lora.alpha", alpha)
    if name is not None:
        writer.add_name(name)
    for key, value in (extra or {}).items():
        writer.add_key_value(key, value, gguf.GGUFValueType.get_type(value))
    for tensor_name, data in tensors.items():
        writer.add_tensor(tensor_name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_base(path: Path, arch: str = "llama") -> Path:
    """A tiny "model" (general.type = model) with a vocabulary, like a real one's header."""
    tensors = {n: np.zeros(shape, dtype=np.float32) for n, shape in BASE_TENSORS.items()}
    writer_extra = {
        f"{arch}.block_count": 1,
        "tokenizer.ggml.tokens": [f"tok{i}" for i in range(N_VOCAB)],
        "tokenizer.ggml.scores": [float(i) for i in range(N_VOCAB)],
    }
    return write_gguf(
        path,
        tensors,
        arch=arch,
        general_type="model",
        adapter_type=None,
        alpha=None,
        name="Tiny",
        extra=writer_extra,
    )


def lora_pair(
    weight: str, n_out: int, n_in: int, rank: int = 2, *, std: float = 0.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """lora_a and lora_b for a weight of numpy shape (n_out, n_in)."""
    rng = np.random.default_rng(seed)
    return {
        f"{weight}.lora_a": rng.normal(0.0, std, (rank, n_in)).astype(np.float32),
        f"{weight}.lora_b": rng.normal(0.0, std, (n_out, rank)).astype(np.float32),
    }
