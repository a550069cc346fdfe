"""Choosing the runtime for the embedding model: torch, or ONNX Runtime.

`auto` picks ONNX Runtime on a computer without a CUDA GPU when the model folder is one
it can reproduce (onnx_export.unsupported_reason); a GPU keeps torch, which is faster
there. Both runtimes give the same model identity, so an index built with one is searched
and extended with the other (vectors agree to cosine 0.9999).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from desktop_rag.core.embedding.embedder import Embedder, SentenceTransformerEmbedder
from desktop_rag.core.embedding.onnx_export import unsupported_reason

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "torch")


def make_embedder(model_dir: str | Path, backend: str, cache_dir: Path) -> Embedder:
    """The embedder for a model folder; loads nothing yet.

    backend: "torch"; "onnx" (ONNX Runtime whenever the folder allows it); "auto" (ONNX
    Runtime unless a CUDA GPU is there). A folder ONNX cannot run, or a missing
    onnxruntime, gives the torch embedder with the reason logged.
    """
    model_dir = Path(model_dir)
    torch_embedder = SentenceTransformerEmbedder(model_dir)  # checks the folder exists
    if backend == "torch":
        return torch_embedder
    reason = _onnx_unavailable(model_dir, prefer_gpu=backend == "auto")
    if reason is not None:
        log.info("embedding with torch: %s", reason)
        return torch_embedder
    from desktop_rag.core.embedding.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder(model_dir, cache_dir, fallback=lambda: torch_embedder)


def _onnx_unavailable(model_dir: Path, *, prefer_gpu: bool) -> str | None:
    if importlib.util.find_spec("onnxruntime") is None:
        return "onnxruntime is not installed"
    reason = unsupported_reason(model_dir)
    if reason is not None:
        return f"ONNX Runtime cannot reproduce {model_dir}: {reason}"
    if prefer_gpu and _cuda_available():
        return "a CUDA GPU is available"
    return None


def _cuda_available() -> bool:
    """Whether torch sees a CUDA GPU, without importing torch (1.5 s, 200 MB) for a
    CPU-only build, which says so in its version ("2.13.0+cpu")."""
    if "torch" not in sys.modules:
        try:
            if version("torch").endswith("+cpu"):
                return False
        except PackageNotFoundError:
            return False
    import torch

    return torch.cuda.is_available()
