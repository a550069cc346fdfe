"""Runs the sync loop (`core.sync.loop.WatchLoop`, the same one `desktop-rag watch` runs) on
the index thread, and relays what it reports as Qt signals.

The loop owns the knowledge base and the watcher: every write, file-system probe, rescan
and status read happens on its thread. The knowledge base (torch, LanceDB, the embedding
model) is built there by the loop's first job, after the window is up. Requests from the UI
become loop jobs; results come back as signals tagged with the folder they are about.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, Signal, Slot

from desktop_rag.core.records import Progress
from desktop_rag.services.engine import IndexFactory
from desktop_rag.services.errors import describe_error
from desktop_rag.services.worker import JobContext, TaskRunner

if TYPE_CHECKING:  # watchdog, LanceDB: imported on first use, after the window is up
    from desktop_rag.core.knowledge_base import IndexStatus, KnowledgeBase
    from desktop_rag.core.sync.engine import SyncEngine
    from desktop_rag.core.sync.loop import FolderSummary, SyncListener, WatchLoop, WatchTiming

log = logging.getLogger(__name__)


class IndexService(QObject):
    opened = Signal(object)  # IndexStatus
    open_failed = Signal(str)
    progress = Signal(str, object)  # folder, Progress
    folder_done = Signal(str, object)  # folder, core.sync.loop.FolderSummary
    folder_failed = Signal(str, str)  # folder, message
    removed = Signal(str)  # folder
    status_changed = Signal(object)  # IndexStatus
    work_changed = Signal(str)  # what runs in the background now, "" when idle
    # core.sync.engine.SyncEvent: unavailable, available, polling, error ... The name hides
    # QObject.event() from Python (mypy's complaint); listeners connect to it by this name.
    event = Signal(object)  # type: ignore[assignment]

    def __init__(
        self,
        factory: IndexFactory,
        index_dir: Path,
        state_db: Path,
        ignore_patterns: tuple[str, ...] = (),
        *,
        timing: WatchTiming | None = None,  # None: the CLI's defaults
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._index_dir = index_dir
        self._state_db = state_db
        self._timing = timing
        self._runner = TaskRunner("index", self)
        self._runner.progress.connect(self._on_runner_progress)
        self._runner.failed.connect(self._on_runner_failed)
        self._ctx: JobContext | None = None  # the loop job's: its progress channel
        self._loop: WatchLoop | None = None  # built on first use (imports watchdog)
        self._factory = (factory, ignore_patterns)
        self.status: IndexStatus | None = None  # the last one reported
        self.status_changed.connect(self._on_status_changed)

    # Requests (UI thread).

    def open(self) -> None:
        """Start the loop: open the index, watch and reconcile every active folder."""
        loop = self._ensure_loop()
        loop.call(lambda engine: engine.kb.status(), on_done=self._opened, on_error=self._failed)

    def sync_folder(self, folder: str, *, retry_failed: bool = False) -> None:
        """Bring a folder's index up to date with the disk (new, changed, gone files);
        `retry_failed` also reads again the files that could not be indexed."""
        self._ensure_loop().sync(folder, retry_failed=retry_failed)

    def folders_changed(self) -> None:
        """The saved folder list changed (added, paused, resumed): watch accordingly."""
        self._ensure_loop().refresh_folders()

    def remove_folder(self, folder: str) -> None:
        """Forget a folder's chunks (it is no longer in the saved list)."""
        self._ensure_loop().forget(folder, on_done=self._removed)

    def rebuild(self, factory: IndexFactory, ignore_patterns: tuple[str, ...]) -> None:
        """Drop the whole index and build it again (another embedding model)."""
        loop = self._ensure_loop()
        loop.cancel_all()
        self._factory = (factory, ignore_patterns)
        loop.replace_engine(self._engine_factory(), wipe=self._index_dir, reconcile=True)

    def reconfigure(self, factory: IndexFactory, ignore_patterns: tuple[str, ...]) -> None:
        """New settings for indexing; new skip patterns also re-sync every folder, so newly
        skipped files leave the index and newly allowed ones join it."""
        reconcile = ignore_patterns != self._factory[1]
        self._factory = (factory, ignore_patterns)
        self._ensure_loop().replace_engine(self._engine_factory(), reconcile=reconcile)

    def cancel_folder(self, folder: str) -> None:
        if self._loop is not None:
            self._loop.cancel_folder(folder)

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        if self._loop is not None:
            self._loop.stop()
        stopped = self._runner.shutdown(timeout_ms)
        if stopped and self._loop is not None:  # the thread is gone: closing cannot race it
            self._loop.close()
        return stopped

    # The loop.

    def _ensure_loop(self) -> WatchLoop:
        if self._loop is None:
            from desktop_rag.core.sync.loop import WatchLoop, WatchTiming

            # _Relay has SyncListener's methods without deriving from it, which would import
            # the loop's module (watchdog, LanceDB) with this one.
            relay = cast("SyncListener", _Relay(self))
            self._loop = WatchLoop(
                self._engine_factory(), self._timing or WatchTiming(), listener=relay
            )
            self._runner.submit(functools.partial(self._run_loop, self._loop))
        return self._loop

    def _run_loop(self, loop: WatchLoop, ctx: JobContext) -> None:
        self._ctx = ctx
        loop.run(ctx.cancel)

    def _post(self, kind: str, *args: object) -> None:
        """From the loop's thread to the UI thread: through the runner's progress signal
        (emitted by its worker object, received by a slot here), so every public signal of
        this service is emitted on the UI thread, whatever its listeners are."""
        if self._ctx is not None:
            self._ctx.progress((kind, args))

    def _engine_factory(self) -> Callable[[], SyncEngine]:
        factory, patterns = self._factory
        state_db = self._state_db

        def build() -> SyncEngine:
            from desktop_rag.core.ingest.ignore import IgnoreRules
            from desktop_rag.core.sync.engine import (
                SyncEngine,  # imports lancedb: index thread only
            )
            from desktop_rag.core.sync.folders import FolderStore

            rules = IgnoreRules.from_patterns(patterns)
            # The sync engine is typed with the real class; a SearchIndex is the part of it
            # the engine and its loop call (tests hand in a fake).
            kb = cast("KnowledgeBase", factory())
            return SyncEngine(
                kb, FolderStore(state_db), rules=rules, on_event=lambda e: self._post("event", e)
            )

        return build

    # Loop callbacks (index thread): only post.

    # `on_done` gets the job's result as `object` (core.sync.loop.LoopJob): here the
    # IndexStatus of `kb.status()` and the folder `forget` removed.

    def _opened(self, status: object) -> None:
        self._post("opened", status)

    def _removed(self, folder: object) -> None:
        self._post("removed", folder)

    def _failed(self, exc: BaseException) -> None:
        self._post("open_failed", describe_error(exc))

    @Slot(int, object)
    def _on_runner_progress(self, request_id: int, value: tuple[str, tuple[object, ...]]) -> None:
        """`value`: (the name of the signal to emit, its arguments), from `_post`."""
        kind, args = value
        if kind == "opened":
            self.opened.emit(*args)
            kind = "status_changed"
        getattr(self, kind).emit(*args)

    @Slot(int, object)
    def _on_runner_failed(self, request_id: int, exc: BaseException) -> None:
        self.open_failed.emit(describe_error(exc))

    @Slot(object)
    def _on_status_changed(self, status: IndexStatus) -> None:
        self.status = status


class _Relay:
    """The loop's listener (on the loop's thread): posts what it reports to the service."""

    def __init__(self, service: IndexService):
        self._service = service

    def busy(self, text: str) -> None:
        self._service._post("work_changed", text)
        if not text:  # idle again: the status bar's counts
            loop = self._service._loop
            if loop is not None and loop.engine is not None:
                try:
                    self._service._post("status_changed", loop.engine.kb.status())
                except Exception:  # counts for the status bar only; the next idle retries
                    log.warning("reading the index status failed", exc_info=True)

    def progress(self, folder: str, progress: Progress) -> None:
        self._service._post("progress", folder, progress)

    def synced(self, summary: FolderSummary) -> None:
        self._service._post("folder_done", summary.folder, summary)

    def failed(self, folder: str, message: str) -> None:
        if folder:
            self._service._post("folder_failed", folder, message)
        else:
            self._service._post("open_failed", message)
