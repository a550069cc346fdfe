"""Read a GGUF file's header (metadata and tensor table) without loading the model.

Uses the `gguf` package's pure-Python `GGUFReader` over a memory map, so a damaged file
gives a Python exception here rather than a crash. Parsing the tokenizer arrays makes it
take about 2 s for a 49k-token vocabulary, so the model host only reads it when a GPU
could be used (the tensor table is what the layer fit needs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_rag.core.errors import ModelError
from desktop_rag.core.llm.gpu.fit import ModelShape

_BLOCK = re.compile(r"blk\.(\d+)\.")
_OUTPUT_TENSORS = ("output.weight", "output.bias", "output_norm.weight", "output_norm.bias")
CORRUPT_HINT = "download it again, or choose another GGUF file in Settings"


@dataclass(frozen=True)
class TensorInfo:
    name: str
    ggml_type: str  # "Q4_K", "F16", ...
    n_bytes: int


@dataclass(frozen=True)
class GgufInfo:
    path: str
    size_bytes: int
    architecture: str
    name: str
    file_type: str  # "Q4_K_M", "F16", ... from general.file_type; "unknown" if absent
    n_layer: int
    n_ctx_train: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim_k: int
    head_dim_v: int
    n_vocab: int
    chat_template: str | None
    tensors: tuple[TensorInfo, ...]

    def shape(self) -> ModelShape:
        layers = [0] * self.n_layer
        output = embd = 0
        for t in self.tensors:
            match = _BLOCK.match(t.name)
            if match and int(match.group(1)) < self.n_layer:
                layers[int(match.group(1))] += t.n_bytes
            elif t.name in _OUTPUT_TENSORS:
                output += t.n_bytes
            elif t.name.startswith("token_embd."):
                embd += t.n_bytes
        if not any(t.name == "output.weight" for t in self.tensors):
            output += embd  # tied embeddings: llama.cpp duplicates token_embd as the output
        return ModelShape(
            n_layer=self.n_layer,
            n_embd=self.n_embd,
            n_head=self.n_head,
            n_head_kv=self.n_head_kv,
            head_dim_k=self.head_dim_k,
            head_dim_v=self.head_dim_v,
            n_vocab=self.n_vocab,
            layer_bytes=tuple(layers),
            output_bytes=output,
            embd_bytes=embd,
        )


def file_type_name(value: int | None) -> str:
    """general.file_type as llama.cpp names it ("Q4_K_M"), or "unknown"."""
    if value is None:
        return "unknown"
    from gguf import LlamaFileType

    try:
        return LlamaFileType(value).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"type {value}"


def read_gguf_info(path: str | Path) -> GgufInfo:
    """Header facts of a GGUF file; `ModelError` when it is missing or not a valid GGUF."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(
            "model file not found", path=str(path), hint="choose a GGUF file in Settings"
        )
    try:
        from gguf import GGUFReader

        reader = GGUFReader(path)
        fields = {name: field for name, field in reader.fields.items()}
        tensors = tuple(
            TensorInfo(t.name, t.tensor_type.name, int(t.n_bytes)) for t in reader.tensors
        )
    except Exception as exc:
        raise ModelError(
            f"not a valid GGUF model file ({type(exc).__name__}: {exc})",
            path=str(path),
            hint=CORRUPT_HINT,
        ) from exc
    arch = str(_value(fields, "general.architecture") or "unknown")

    def arch_int(key: str, default: int = 0) -> int:
        value = _value(fields, f"{arch}.{key}")
        if isinstance(value, list):  # per-layer values in some architectures
            value = max(value) if value else None
        return int(value) if value is not None else default

    n_layer = arch_int("block_count")
    if n_layer <= 0:
        raise ModelError(
            f"the GGUF header has no {arch}.block_count", path=str(path), hint=CORRUPT_HINT
        )
    n_embd = arch_int("embedding_length")
    n_head = arch_int("attention.head_count", 1) or 1
    n_head_kv = arch_int("attention.head_count_kv", n_head) or n_head
    tokens = fields.get("tokenizer.ggml.tokens")
    n_vocab = arch_int("vocab_size", len(tokens.data) if tokens is not None else 0)
    file_type = _value(fields, "general.file_type")
    return GgufInfo(
        path=str(path),
        size_bytes=path.stat().st_size,
        architecture=arch,
        name=str(_value(fields, "general.name") or path.stem),
        file_type=file_type_name(int(file_type) if file_type is not None else None),
        n_layer=n_layer,
        n_ctx_train=arch_int("context_length"),
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim_k=arch_int("attention.key_length", n_embd // n_head),
        head_dim_v=arch_int("attention.value_length", n_embd // n_head),
        n_vocab=n_vocab,
        chat_template=_value(fields, "tokenizer.chat_template"),
        tensors=tensors,
    )


def _value(fields: dict[str, Any], key: str) -> Any:
    field = fields.get(key)
    if field is None:
        return None
    value = field.contents()
    return value.tolist() if hasattr(value, "tolist") else value
