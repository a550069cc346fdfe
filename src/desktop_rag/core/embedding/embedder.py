"""Turning text into vectors, behind one small protocol so tests can plug in a fake.

An embedder also owns the tokenizer that chunking counts with: a chunk is sized in the
model's own word pieces, because MiniLM silently drops everything past 256 of them.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from desktop_rag.core.errors import ModelError

TokenSpans = list[tuple[int, int]]


@runtime_checkable
class Embedder(Protocol):
    """What the engine needs from an embedding model.

    `name` is recorded in the index: vectors of two different models never mix.
    An embedder may also have a `variant` (the runtime: "torch", "onnx-fp32"), recorded
    beside the name; `embedder_variant` reads it.
    `token_offsets(text)` gives the (start, end) character span of every token the model
    would see, without special tokens; chunking sizes chunks with it.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def token_offsets(self, text: str) -> TokenSpans: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The embeddings of `texts`, in their order: shape `(len(texts), dim)`, float32,
        each row L2-normalised (length 1), so a dot product is the cosine similarity.
        `(0, dim)` for no texts. Texts longer than `max_tokens` are cut by the model.
        Raises what the runtime raises (RuntimeError, MemoryError) on a failed batch."""
        ...


def embedder_variant(embedder: Embedder) -> str:
    """The embedder's runtime variant; "torch" for embedders that do not say."""
    return str(getattr(embedder, "variant", "torch"))


def _model_title(model_dir: Path) -> str:
    """A readable model name: the README's first heading, else the folder's name."""
    readme = model_dir / "README.md"
    try:
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines()[:80]:
            if line.startswith("# "):
                return line[2:].strip()
    except OSError:
        pass
    return model_dir.name if model_dir.name not in {"model", "models"} else model_dir.parent.name


def model_max_tokens(model_dir: Path) -> int | None:
    """`max_seq_length` from a sentence-transformers folder's sentence_bert_config.json
    (tokens the model reads per text); None when the folder does not say."""
    try:
        config = json.loads((Path(model_dir) / "sentence_bert_config.json").read_text("utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def model_folder(model_dir: str | Path) -> Path:
    """`model_dir` as a Path; raises ModelError when it holds no model (no config.json)."""
    folder = Path(model_dir)
    if not (folder / "config.json").is_file():
        raise ModelError(
            f"no embedding model found in {folder}",
            hint="choose a folder holding a sentence-transformers model",
        )
    return folder


def model_identity(model_dir: Path) -> str:
    """`title#fingerprint`: cheap to compute (no weights loaded) and changes with the model."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "tokenizer.json", "sentence_bert_config.json"):
        try:
            digest.update((model_dir / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    for weights in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{_model_title(model_dir)}#{digest.hexdigest()[:8]}"


def token_offsets_function(model_dir: Path) -> Callable[[str], TokenSpans]:
    """A function giving a text's token spans, with the model's own tokenizer."""
    fast = model_dir / "tokenizer.json"
    if fast.is_file():
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(fast))
        tokenizer.no_truncation()  # the file may truncate at 128; chunking needs all tokens
        tokenizer.no_padding()
        # encode_batch releases the GIL while it tokenizes; encode holds it for the whole
        # text, which stalled the UI thread for over a second on a large document.
        return lambda text: tokenizer.encode_batch([text], add_special_tokens=False)[0].offsets
    from transformers import AutoTokenizer

    slow = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)

    def offsets(text: str) -> TokenSpans:
        encoded = slow(text, return_offsets_mapping=True, add_special_tokens=False, verbose=False)
        return [tuple(span) for span in encoded["offset_mapping"]]

    return offsets


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder only; loads on first use.

    Safe to share between threads: calls to the model are serialised (one at a time).
    """

    def __init__(
        self, model_dir: str | Path, *, device: str | None = None, batch_size: int | None = None
    ):
        self.model_dir = model_folder(model_dir)
        self._name = model_identity(self.model_dir)
        self._device = device
        # On CPU, 32 is as fast as 64 with ~170 MB less peak memory (attention buffers).
        self._batch_size = batch_size
        self._model = None
        self._offsets: Callable[[str], TokenSpans] | None = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def variant(self) -> str:
        """The runtime that computes the vectors, recorded in the index's manifest."""
        return "torch"

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self):
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
        device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            return SentenceTransformer(str(self.model_dir), device=device, local_files_only=True)
        except Exception as exc:  # any loader failure is a broken model folder to the user
            raise ModelError(
                f"could not load the embedding model in {self.model_dir}: {exc}",
                hint="re-install the model or choose another folder in Settings",
            ) from exc

    @property
    def batch_size(self) -> int:
        if self._batch_size is None:
            self._batch_size = 32 if self.model.device.type == "cpu" else 128
        return self._batch_size

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per text (longer input is truncated); read from the model
        folder's configuration when the model is not loaded yet."""
        if self._model is None:
            configured = model_max_tokens(self.model_dir)
            if configured is not None:
                return configured
        return int(self.model.max_seq_length)

    @property
    def tokenizer(self):
        return self.model.tokenizer

    def token_offsets(self, text: str) -> TokenSpans:
        """Token spans from a tokenizer of our own: no weights needed, and chunking on one
        thread never races `encode` on another (HF tokenizers reject concurrent use)."""
        with self._lock:
            if self._offsets is None:
                self._offsets = token_offsets_function(self.model_dir)
        return self._offsets(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        with self._encode_lock:  # the indexer and a search may share this embedder
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_FAKE_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]"  # one CJK character each
    r"|[^\W\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+"
    r"|[^\w\s]"
)


class FakeEmbedder:
    """Deterministic bag-of-words hashing vectors: texts sharing words are close.

    For unit tests: no model to load, same seam as the real one.
    """

    def __init__(self, dim: int = 64, name: str = "fake-embedder", max_tokens: int = 256):
        self._dim = dim
        self._name = name
        self._max_tokens = max_tokens
        self.embedded_texts: list[str] = []  # tests check what was (not) re-embedded

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def token_offsets(self, text: str) -> TokenSpans:
        return [m.span() for m in _FAKE_TOKEN.finditer(text)]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded_texts.extend(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for match in _FAKE_TOKEN.finditer(text.lower()):
                word = match.group()
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
                out[row, bucket % self._dim] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else 1.0 / np.sqrt(self._dim)
        return out
