"""What the services call on the engine, as Protocols, so tests can hand in fakes.

The real parts are `core.knowledge_base.KnowledgeBase` and `services.local_engine.LocalChatEngine`
(model host plus answerer); both are created on their service's worker thread, which is
where their heavy imports (torch, lancedb, llama_cpp) happen. The Protocols' signatures are
the real classes' ones, parameter for parameter; tests/services/test_engine_protocols.py
compares them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from desktop_rag.core.llm.model_info import ModelInfo
from desktop_rag.core.rag.answers import Answer, PartialAttribution
from desktop_rag.core.records import FileRecord, Hit, IndexReport, Progress
from desktop_rag.core.settings import Settings

if TYPE_CHECKING:  # imports numpy and LanceDB: the index thread imports it, on first use
    from desktop_rag.core.knowledge_base import IndexStatus


class SearchIndex(Protocol):
    """What the sync loop calls on `KnowledgeBase` (on the index thread, its one owner).

    The sync engine also reads its `store` for the start-up consistency check.
    """

    def index(
        self,
        targets: Sequence[Path],
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        retry_failed: bool = False,
    ) -> IndexReport: ...

    def remove(self, targets: Sequence[Path]) -> int: ...

    def move(self, old: Path, new: Path) -> int: ...

    def schedule_vector_index(self) -> None: ...

    def search(self, query: str, k: int = 10, folders: Sequence[str] = ()) -> list[Hit]: ...

    def status(self) -> IndexStatus: ...

    def file_records(self, under: Path | None = None) -> list[FileRecord]: ...

    def close(self) -> None: ...


class ChatEngine(Protocol):
    """A loaded chat model and the answerer around it (one owner thread).

    `ask` streams pieces of the answer through `on_token`, sentence attributions so far
    through `on_attribution`, and returns the `Answer`; `stop` may be called from any
    thread and ends generation at once.
    """

    def load(
        self,
        cancel: threading.Event | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> ModelInfo: ...

    def reconfigure(self, settings: Settings) -> None: ...

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        on_token: Callable[[str], None],
        cancel: threading.Event,
        folders: Sequence[str] = (),
        on_attribution: Callable[[PartialAttribution], None] | None = None,
    ) -> Answer: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


IndexFactory = Callable[[], SearchIndex]
ChatEngineFactory = Callable[[], ChatEngine]
