"""What the services call on the engine, as Protocols, so tests can hand in fakes.

The real parts are `core.knowledge_base.KnowledgeBase` and `services.local_engine.LocalChatEngine`
(model host plus answerer); both are created on their service's worker thread, which is
where their heavy imports (torch, lancedb, llama_cpp) happen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from desktop_rag.core.records import FileRecord, Hit, IndexReport, Progress


class IndexStatusLike(Protocol):
    files: int
    chunks: int
    errors: tuple[Any, ...]  # SkippedFile(path, reason)
    embedder: str | None
    index_bytes: int


class SearchIndex(Protocol):
    """The subset of `KnowledgeBase` the index service uses (one owner thread)."""

    def index(
        self,
        targets: Sequence[Path],
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport: ...

    def remove(self, targets: Sequence[Path]) -> int: ...

    def move(self, old: Path, new: Path) -> int: ...

    def search(self, query: str, k: int = 10) -> list[Hit]: ...

    def status(self) -> IndexStatusLike: ...

    def file_records(self, under: Path | None = None) -> list[FileRecord]: ...

    def close(self) -> None: ...


class ChatEngine(Protocol):
    """A loaded chat model and the answerer around it (one owner thread).

    `ask` streams pieces of the answer through `on_token` and returns an `Answer`
    (text, sources, model, gpu_layers, total_layers, timings, covered); `stop` may be
    called from any thread and ends generation at once.
    """

    def load(
        self,
        cancel: threading.Event | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> Any: ...

    def reconfigure(self, settings: Any) -> None: ...

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        on_token: Callable[[str], None],
        cancel: threading.Event,
        folders: Sequence[str] = (),
        on_attribution: Callable[[Any], None] | None = None,
    ) -> Any: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


IndexFactory = Callable[[], SearchIndex]
ChatEngineFactory = Callable[[], ChatEngine]
