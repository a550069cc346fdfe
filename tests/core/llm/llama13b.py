"""LLaMA-2-13B's real tensor table, computed from ggml block sizes, for the GPU fit tests.

Shapes: 40 blocks, n_embd 5120, 40 heads (40 KV heads), feed-forward 13824, vocab 32000.
Q4_K_M is llama.cpp's mix: most weights Q4_K (144 bytes per 256), attn_v and ffn_down in
Q6_K (210 bytes per 256) for the first and last eighth of the blocks and every third one
between, output.weight Q6_K; norms stay F32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop_rag.core.llm.model.gguf_info import TensorInfo

N_LAYER, N_EMBD, N_HEAD, N_FF, N_VOCAB = 40, 5120, 40, 13824, 32000
BLOCK = {"F32": (1, 4), "F16": (1, 2), "Q4_K": (256, 144), "Q6_K": (256, 210)}


def nbytes(ggml_type: str, n_elements: int) -> int:
    size, per_block = BLOCK[ggml_type]
    assert n_elements % size == 0
    return n_elements // size * per_block


def _more_bits(i: int, n: int) -> bool:
    # llama.cpp's use_more_bits() for Q4_K_M
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def llama13b_tensors(kind: str) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape as ne0..neN, ggml type) for every tensor of the 13B model."""

    def q(big: bool) -> str:
        return "F16" if kind == "F16" else ("Q6_K" if big else "Q4_K")

    rows = [("token_embd.weight", (N_EMBD, N_VOCAB), "F16" if kind == "F16" else "Q4_K")]
    for i in range(N_LAYER):
        more = _more_bits(i, N_LAYER)
        rows += [
            (f"blk.{i}.attn_norm.weight", (N_EMBD,), "F32"),
            (f"blk.{i}.attn_q.weight", (N_EMBD, N_EMBD), q(False)),
            (f"blk.{i}.attn_k.weight", (N_EMBD, N_EMBD), q(False)),
            (f"blk.{i}.attn_v.weight", (N_EMBD, N_EMBD), q(more)),
            (f"blk.{i}.attn_output.weight", (N_EMBD, N_EMBD), q(False)),
            (f"blk.{i}.ffn_norm.weight", (N_EMBD,), "F32"),
            (f"blk.{i}.ffn_gate.weight", (N_EMBD, N_FF), q(False)),
            (f"blk.{i}.ffn_up.weight", (N_EMBD, N_FF), q(False)),
            (f"blk.{i}.ffn_down.weight", (N_FF, N_EMBD), q(more)),
        ]
    rows += [
        ("output_norm.weight", (N_EMBD,), "F32"),
        ("output.weight", (N_EMBD, N_VOCAB), "F16" if kind == "F16" else "Q6_K"),
    ]
    return rows


def llama13b_table(kind: str) -> tuple[TensorInfo, ...]:
    return tuple(
        TensorInfo(name, t, nbytes(t, int(np.prod(shape))))
        for name, shape, t in llama13b_tensors(kind)
    )


def write_llama13b_header(path: Path, kind: str) -> Path:
    """A GGUF with the 13B model's real header and tensor table; the data is a sparse hole.

    GGUFWriter writes tensor infos without data; extending the file to its full length
    with truncate() keeps it a few hundred KB on disk while readers see a 7.9 GB file.
    """
    import gguf

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("LLaMA v2 13B (test header)")
    writer.add_block_count(N_LAYER)
    writer.add_context_length(4096)
    writer.add_embedding_length(N_EMBD)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_vocab_size(N_VOCAB)
    writer.add_file_type(
        gguf.LlamaFileType.MOSTLY_F16 if kind == "F16" else gguf.LlamaFileType.MOSTLY_Q4_K_M
    )
    writer.add_chat_template("{{ messages }}")
    total = 0
    for name, shape, ggml_type in llama13b_tensors(kind):
        n = nbytes(ggml_type, int(np.prod(shape)))
        writer.add_tensor_info(
            name,
            tuple(reversed(shape)),  # the writer takes numpy order and reverses it
            np.dtype(np.float32),
            n,
            raw_dtype=gguf.GGMLQuantizationType[ggml_type],
        )
        total += gguf.GGUFWriter.ggml_pad(n, writer.data_alignment)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    header = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(gguf.GGUFWriter.ggml_pad(header, writer.data_alignment) + total)
    return path
