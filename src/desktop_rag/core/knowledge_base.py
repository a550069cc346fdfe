"""The engine's one entry point for the UI, the CLI, the answerer and folder sync.

A KnowledgeBase owns the store and the embedder. Writers (index, remove, move, optimize)
are serialised by a lock; searches do not take it, so an answer is not held up by an
indexing run on another thread (LanceDB reads see the last committed version, and the
embedder serialises its own calls, a slice of at most a few seconds).

After each indexing run, and when the sync engine opens an index made before vector
indexes existed, the approximate vector index is built or trained again, if the table has
grown enough (`Store.update_vector_index`), on a thread of its own: minutes at a million
chunks, during which searches and writes (the next sync batch included) go on. One build
at a time; a request during a build is remembered and checked when it ends. The thread is
a daemon: quitting mid-build loses only that build (LanceDB commits an index whole or not
at all), and the next run starts it again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_rag.core import settings as settings_mod
from desktop_rag.core.embedding.backend import make_embedder
from desktop_rag.core.embedding.embedder import Embedder
from desktop_rag.core.index.store import Store
from desktop_rag.core.index.vector_index import Action
from desktop_rag.core.ingest.extract import ExtractLimits
from desktop_rag.core.ingest.indexer import Indexer
from desktop_rag.core.paths import AppPaths, app_paths, default_embedder_dir
from desktop_rag.core.records import Document, FileRecord, Hit, IndexReport, Progress, SkippedFile
from desktop_rag.core.retrieval.retriever import RetrievalConfig, Retriever
from desktop_rag.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexStatus:
    files: int
    chunks: int
    errors: tuple[SkippedFile, ...]
    embedder: str | None  # the model that built the index (None: nothing indexed yet)
    index_bytes: int
    # The runtime that created the index ("torch", "onnx-fp32"; Manifest.variant).
    embedder_variant: str | None = None


def _resolved(path: Path | str) -> str:
    """A folder's key: absolute, symlinks resolved (as `FolderStore` spells watched folders)."""
    return str(Path(path).expanduser().resolve())


def _as_given(path: Path | str) -> str:
    """A file's key: absolute, but never resolved. A file is known by the path it has in
    its watched folder, the way the folder walk reaches it: a link to a file outside the
    folder is recorded under the link's name, so folder filters, reconciles and removal of
    the folder all find it (its target's path would lie outside the folder)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


class KnowledgeBase:
    def __init__(
        self,
        paths: AppPaths,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        retrieval: RetrievalConfig | None = None,
        extract_limits: ExtractLimits | None = None,
    ):
        self.paths = paths
        self.settings = settings if settings is not None else Settings()
        self._embedder = embedder
        self._lock = threading.RLock()  # creating the store and embedder
        self._write_lock = threading.Lock()  # one writer at a time
        self._store: Store | None = None
        self._retrieval = retrieval or RetrievalConfig()
        self._limits = extract_limits  # None: from settings (tests use tighter ones)
        self._vector_lock = threading.Lock()  # the vector index build's thread, below
        self._vector_thread: threading.Thread | None = None
        self._vector_again = False

    @classmethod
    def open(cls, data_dir: str | Path | None = None, *, embedder: Embedder | None = None):
        """The knowledge base of a data folder (default: `--data-dir`/$DESKTOP_RAG_HOME/...)."""
        paths = app_paths(data_dir)
        loaded, _problems = settings_mod.load(paths.settings_file)
        return cls(paths, loaded, embedder=embedder)

    # -- owned resources, created on first need -------------------------------------

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = Store(self.paths.index_dir)
            return self._store

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                folder = self.settings.embedder or default_embedder_dir()
                self._embedder = make_embedder(
                    folder, self.settings.embedder_backend, self.paths.cache_dir
                )
            return self._embedder

    def _retriever(self) -> Retriever:
        self.store.check_embedder(self.embedder.name)
        return Retriever(self.store, self._embed_query, self._retrieval)

    def _embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) unit vectors from the index's embedder (answer attribution)."""
        return self.embedder.embed(texts)

    # -- writing ----------------------------------------------------------------------

    def index(
        self,
        targets: Sequence[Path],
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        retry_failed: bool = False,
    ) -> IndexReport:
        """Index files and folders; unchanged files cost nothing. Safe to cancel.

        A file that failed before waits for a change, unless `retry_failed`.
        """
        with self._write_lock:
            indexer = Indexer(
                self.store,
                self.embedder,
                self.settings,
                progress=progress,
                cancel=cancel,
                limits=self._limits,
                retry_failed=retry_failed,
            )
            report = indexer.run(targets)
        self.schedule_vector_index()
        return report

    def index_documents(
        self,
        docs: Iterable[Document],
        *,
        total: int = 0,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        """Index documents built in memory, keyed by `doc.path` (benchmarks, samples)."""
        with self._write_lock:
            indexer = Indexer(
                self.store, self.embedder, self.settings, progress=progress, cancel=cancel
            )
            report = indexer.run_documents(docs, total)
        self.schedule_vector_index()
        return report

    def remove(self, targets: Sequence[Path]) -> int:
        """Forget files or whole folders (keys as the folder walk spells them, see
        `_as_given`); returns the number of chunks removed."""
        paths = [_as_given(t) for t in targets]
        with self._write_lock:
            files = self.store.indexed_among(paths)
            # Files in one delete per batch: one delete each cost 15 ms a file.
            removed = self.store.delete_paths([p for p in paths if p in files])
            for folder in (p for p in paths if p not in files):
                removed += self.store.delete_under(folder)
        return removed

    def move(self, old: Path, new: Path) -> int:
        """A file or folder was moved: update paths, re-embed nothing; returns chunks moved."""
        old_path, new_path = _as_given(old), _as_given(new)
        with self._write_lock:
            if self.store.get_file(old_path) is not None:
                return self.store.move_path(old_path, new_path)
            return self.store.move_under(old_path, new_path)

    def optimize(self) -> None:
        """Compact the tables and fold new rows into the keyword indexes."""
        with self._write_lock:
            self.store.optimize(force=True)
        self.schedule_vector_index()

    def schedule_vector_index(self) -> None:
        """Check on a background thread whether the vector index is due, and build it;
        returns at once. See the module notes.

        Whether one is due is checked here, so that no thread runs (nor outlives a short
        script that indexes and exits: a daemon thread inside LanceDB at interpreter exit
        aborts it) unless there is a build to do."""
        try:
            if self.store.vector_index_due() is Action.NONE:
                return
        except Exception:  # the build's own attempt reports what is wrong
            log.warning("checking the vector index failed", exc_info=True)
            return
        with self._vector_lock:
            if self._vector_thread is not None and self._vector_thread.is_alive():
                self._vector_again = True
                return
            self._vector_again = False
            self._vector_thread = threading.Thread(
                target=self._vector_index_loop, name="desktop-rag-vector-index", daemon=True
            )
            self._vector_thread.start()

    def _vector_index_loop(self) -> None:
        while True:
            self.update_vector_index()
            with self._vector_lock:
                if not self._vector_again:
                    return
                self._vector_again = False

    def wait_for_vector_index(self, timeout: float | None = None) -> bool:
        """Wait for a build started by `schedule_vector_index` (the CLI, before it exits);
        returns False if it is still running after `timeout` seconds."""
        with self._vector_lock:
            thread = self._vector_thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    @property
    def building_vector_index(self) -> bool:
        with self._vector_lock:
            return self._vector_thread is not None and self._vector_thread.is_alive()

    def update_vector_index(self) -> Action:
        """Build or retrain the approximate vector index if due (see the module notes);
        returns what was done. A failure is logged, never raised: searches stay exact
        (or use the previous index) and the next run tries again."""
        try:
            with self._lock:
                store = self._store
            if store is None:  # closed meanwhile
                return Action.NONE
            return store.update_vector_index()
        except Exception:
            log.warning("building the vector index failed; will try again", exc_info=True)
            return Action.NONE

    # -- reading ----------------------------------------------------------------------

    def search(self, query: str, k: int = 10, folders: Sequence[str] = ()) -> list[Hit]:
        """The `k` best chunks for `query`: vector and keyword search fused by reciprocal
        rank, near-duplicate chunks removed; only under `folders` when some are given.

        `Hit.score` is the fused RRF score, sum of 1 / (60 + rank) over the two lists: at
        most 2/61, about 0.033 (first in both), higher is better; it only ranks. The raw
        signals ride along: `Hit.dense_score` (cosine similarity, -1 to 1) and
        `Hit.keyword_score` (BM25, unbounded), None for the side that did not find the
        chunk. `[]` for an empty index. Loads the embedding model on first use; raises
        `IndexMismatchError` when the index was built by another embedding model.
        """
        return self._retriever().hybrid(query, k, [_resolved(f) for f in folders])

    def search_dense(self, query: str, k: int = 10) -> list[Hit]:
        return self._retriever().dense(query, k)

    def search_keyword(self, query: str, k: int = 10) -> list[Hit]:
        """Keyword search only; needs no embedding model."""
        return Retriever(self.store, self._embed_query, self._retrieval).keyword(query, k)

    def status(self) -> IndexStatus:
        """Counts and errors; never loads the embedding model."""
        store = self.store
        counts = store.counts()
        # Files that failed, and files indexed only in part (their reason says so).
        errors = tuple(
            SkippedFile(r.path, r.error or "unknown error")
            for r in store.get_files(noted=True)
            if r.status == "error" or r.error
        )
        manifest = store.manifest
        return IndexStatus(
            files=counts.files,
            chunks=counts.chunks,
            errors=errors,
            embedder=manifest.embedder if manifest else None,
            index_bytes=store.size_bytes(),
            embedder_variant=manifest.variant if manifest else None,
        )

    def file_records(self, under: Path | None = None) -> list[FileRecord]:
        return self.store.get_files(None if under is None else _resolved(under))

    def close(self) -> None:
        """Release the store; the embedder is dropped (its memory freed when unreferenced)."""
        with self._lock:
            self._store = None
            self._embedder = None
