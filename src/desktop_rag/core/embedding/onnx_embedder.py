"""The sentence-transformers model run through ONNX Runtime: same vectors, less time.

The folder's transformer is exported once into the cache (onnx_export.py); tokenisation
uses the folder's tokenizer.json, pooling and normalisation follow its module
configuration. Vectors agree with torch's to cosine 0.9999 and SciFact scores the same;
on a 2-core CPU it embeds no faster than torch (0.86-0.98x, benchmarks/embedder_backends.py)
but loads in about a second without importing torch and takes ~300 MB less memory.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock

from desktop_rag.core.embedding import onnx_export
from desktop_rag.core.embedding.embedder import (
    Embedder,
    TokenSpans,
    model_folder,
    model_identity,
    model_max_tokens,
    token_offsets_function,
)
from desktop_rag.core.errors import ModelError

if TYPE_CHECKING:  # for annotations only: both are imported when the model loads
    import onnxruntime as ort
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Unit-length means of each text's token vectors, padding left out.

    hidden: float (batch, sequence, dim); mask: 0/1 ints (batch, sequence).
    Returns float32 (batch, dim); a text without tokens gives zeros, not NaN.
    """
    weights = mask[..., None].astype(np.float32)
    summed = (hidden.astype(np.float32) * weights).sum(axis=1)
    # The same floor as sentence-transformers' Pooling (1e-9) and Normalize (1e-12).
    means = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    return (means / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxEmbedder:
    """A sentence-transformers folder (Transformer, mean Pooling, Normalize) run by
    onnxruntime on the CPU; exports on first load and loads lazily.

    `name` is the model's identity, the same as SentenceTransformerEmbedder's: an index
    built with torch keeps working. `variant` says what actually runs ("onnx-fp32", or
    "torch" after a fallback) and is recorded in the index's manifest.

    When the export or the ONNX session fails, the embedder falls back to
    `fallback()` (a torch embedder) and logs why, rather than leaving the user without
    search. Safe to share between threads: calls to the model are serialised.
    """

    def __init__(
        self,
        model_dir: str | Path,
        cache_dir: str | Path,
        *,
        variant: str = onnx_export.FP32,
        threads: int | None = None,
        batch_size: int = 32,
        fallback: Callable[[], Embedder] | None = None,
    ):
        self.model_dir = model_folder(model_dir)
        self._name = model_identity(self.model_dir)
        self.model_file = onnx_export.cached_model(Path(cache_dir), self._name, variant)
        self._variant = variant
        self._threads = threads  # None: onnxruntime's default, one per physical core
        self.batch_size = batch_size
        self._fallback_factory = fallback
        self._fallback: Embedder | None = None
        self._session: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._input_names: list[str] = []
        self._dim = 0
        self._lower = False
        self._offsets: Callable[[str], TokenSpans] | None = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self.exported = False  # whether this instance had to export (tests, logs)

    @property
    def name(self) -> str:
        return self._name

    @property
    def variant(self) -> str:
        """What runs: loads the model, since a failed load falls back to torch."""
        self._ensure_loaded()
        return "torch" if self._fallback is not None else self._variant

    @property
    def dim(self) -> int:
        self._ensure_loaded()
        if self._fallback is not None:
            return self._fallback.dim
        return self._dim

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per text; longer input is truncated."""
        configured = model_max_tokens(self.model_dir)
        if configured is not None:
            return configured
        config = json.loads((self.model_dir / "config.json").read_text("utf-8"))
        return int(config.get("max_position_embeddings", 512))

    def token_offsets(self, text: str) -> TokenSpans:
        """Token spans from a tokenizer of our own, never the one `embed` pads with."""
        with self._lock:
            if self._offsets is None:
                self._offsets = token_offsets_function(self.model_dir)
        return self._offsets(text)

    # -- loading ------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        with self._lock:
            if self._session is not None or self._fallback is not None:
                return
            try:
                self._session = self._open_session()
                self._tokenizer = self._make_tokenizer()
            except Exception as exc:  # any export or runtime failure: torch still works
                if self._fallback_factory is None:
                    raise ModelError(
                        f"could not run the embedding model in {self.model_dir} "
                        f"with ONNX Runtime: {exc}",
                        hint="set the embedder backend to 'torch' in Settings",
                    ) from exc
                log.warning("ONNX embedder unavailable, using torch: %s", exc, exc_info=True)
                self._session = None
                self._fallback = self._fallback_factory()

    def _open_session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between operators: a question's embedding runs beside the
        # keyword search (retrieval/retriever.py), and spinning threads took the cores it needed
        # (hybrid search at a million chunks, 2 cores: p50 76-81 ms spinning, 47-53 not;
        # batch embedding loses about 4%).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")

        def load():
            return ort.InferenceSession(
                str(self.model_file), options, providers=["CPUExecutionProvider"]
            )

        self.model_file.parent.mkdir(parents=True, exist_ok=True)
        # One export at a time across threads and processes: the app's index and chat
        # engines (and a CLI beside them) all load the embedder at start.
        with FileLock(self.model_file.with_name("export.lock")):
            if not onnx_export.is_complete(self.model_file):
                self._export()
            try:
                session = load()
            except Exception as exc:  # a complete-looking file onnxruntime cannot read
                log.warning("unreadable ONNX model %s (%s); exporting again", self.model_file, exc)
                self._export()
                session = load()
        self._input_names = [i.name for i in session.get_inputs()]
        hidden = session.get_outputs()[0].shape[-1]
        if not isinstance(hidden, int):  # a symbolic size: the config says
            config = json.loads((self.model_dir / "config.json").read_text("utf-8"))
            hidden = int(config["hidden_size"])
        self._dim = hidden
        return session

    def _export(self) -> None:
        log.info("preparing %s for ONNX Runtime (once): %s", self._name, self.model_file)
        onnx_export.discard(self.model_file)
        onnx_export.export(self.model_dir, self.model_file, self._name, self._variant)
        self.exported = True

    def _make_tokenizer(self):
        from tokenizers import Tokenizer

        try:
            config = json.loads((self.model_dir / "sentence_bert_config.json").read_text("utf-8"))
            self._lower = bool(config.get("do_lower_case", False))
        except (OSError, ValueError):
            self._lower = False

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        # As sentence-transformers tokenizes: cut at max_seq_length, pad to the batch's
        # longest text (tokenizer.json may say "pad everything to 128").
        tokenizer.enable_truncation(self.max_tokens)
        padding = tokenizer.padding or {}
        tokenizer.enable_padding(
            pad_id=padding.get("pad_id", 0),
            pad_type_id=padding.get("pad_type_id", 0),
            pad_token=padding.get("pad_token", "[PAD]"),
        )
        return tokenizer

    # -- embedding ----------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (len(texts), dim), each row of length 1."""
        self._ensure_loaded()
        if self._fallback is not None:
            return self._fallback.embed(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        # sentence-transformers strips each text; longest first so a batch pads little.
        prepared = [t.strip().lower() if self._lower else t.strip() for t in texts]
        order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i]))
        with self._encode_lock:  # the indexer and a search may share this embedder
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self._embed_batch([prepared[i] for i in rows])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        session, tokenizer = self._session, self._tokenizer
        assert session is not None and tokenizer is not None  # embed() loaded them
        encodings = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = session.run(["last_hidden_state"], feeds)
        return mean_pool(hidden, mask)
