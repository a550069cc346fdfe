"""Owns the knowledge base on the index thread: every write and status read happens there.

The knowledge base (and `core.sync.SyncEngine` around it, which decides what to add,
re-embed, move or delete) is created by the first job, so torch, lancedb and the embedding
model load in the background after the window is up. Jobs run one at a time in order;
progress and results come back tagged with the folder they are about.
"""

from __future__ import annotations

import functools
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop_rag.core.records import IndexReport, Progress
from desktop_rag.services.engine import IndexFactory, SearchIndex
from desktop_rag.services.errors import describe_error
from desktop_rag.services.worker import JobContext, TaskRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FolderOutcome:
    folder: str
    report: IndexReport | None  # None for a removal
    files: int  # indexed files under the folder now
    errors: int  # files under the folder that could not be read
    available: bool = True  # False: the folder could not be reached, nothing was changed


class IndexService(QObject):
    opened = Signal(object)  # IndexStatus
    open_failed = Signal(str)
    progress = Signal(str, object)  # folder, Progress
    folder_done = Signal(str, object)  # folder, FolderOutcome
    folder_failed = Signal(str, str)  # folder, message
    removed = Signal(str)  # folder
    status_changed = Signal(object)  # IndexStatus
    work_changed = Signal(str)  # what runs in the background now, "" when idle

    def __init__(
        self,
        factory: IndexFactory,
        index_dir: Path,
        state_db: Path,
        ignore_patterns: tuple[str, ...] = (),
        parent=None,
    ):
        super().__init__(parent)
        self._factory = factory
        self._index_dir = index_dir
        self._state_db = state_db
        self._ignore_patterns = ignore_patterns
        self._kb: SearchIndex | None = None  # index thread only
        self._sync = None  # core.sync.SyncEngine, index thread only
        self._runner = TaskRunner("index", self)
        self._runner.progress.connect(self._on_runner_progress)
        self._runner.finished.connect(self._on_runner_finished)
        self._runner.failed.connect(self._on_runner_failed)
        self._requests: dict[int, tuple[str, str]] = {}  # id -> (kind, folder)
        self._open_id: int | None = None
        self.status = None

    # Requests (UI thread).

    def open(self) -> int:
        self._open_id = self._submit("open", "", self._open_job)
        return self._open_id

    def sync_folder(self, folder: str, *, retry_failed: bool = False) -> int:
        """Bring a folder's index up to date with the disk (new, changed, gone files);
        `retry_failed` also reads again the files that could not be indexed."""
        job = functools.partial(self._sync_job, folder, retry_failed)
        return self._submit("sync", folder, job)

    def remove_folder(self, folder: str) -> int:
        self.cancel_folder(folder)
        return self._submit("remove", folder, functools.partial(self._remove_job, folder))

    def apply_changes(self, batch: object, folders: Sequence[str]) -> int:
        """A batch of file system events from the watcher, touching `folders`."""
        job = functools.partial(self._changes_job, batch, tuple(folders))
        return self._submit("changes", folders[0] if folders else "", job)

    def rebuild(self, factory: IndexFactory, ignore_patterns: tuple[str, ...]) -> None:
        """Drop the whole index; the next jobs build it again (another embedding model)."""
        self._runner.cancel_all()
        job = functools.partial(self._rebuild_job, factory, ignore_patterns)
        self._submit("rebuild", "", job)

    def reconfigure(self, factory: IndexFactory, ignore_patterns: tuple[str, ...]) -> None:
        """New settings for indexing: reopen the knowledge base with them before the next job
        (the jobs queued before keep the old ones)."""
        job = functools.partial(self._replace_job, factory, ignore_patterns)
        self._submit("status", "", job)

    def refresh_status(self) -> int:
        return self._submit("status", "", self._status_job)

    def cancel_folder(self, folder: str) -> None:
        for request_id, (_kind, target) in list(self._requests.items()):
            if target == folder:
                self._runner.cancel(request_id)

    def busy(self) -> bool:
        return bool(self._requests)

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        stopped = self._runner.shutdown(timeout_ms)
        if stopped:  # the thread is gone, so closing here cannot race it
            self._close_job(None)
        return stopped

    def _submit(self, kind: str, folder: str, job) -> int:
        request_id = self._runner.submit(job)
        self._requests[request_id] = (kind, folder)
        self._announce()
        return request_id

    def _announce(self) -> None:
        kinds = [(k, f) for k, f in self._requests.values() if k != "status"]
        if not kinds:
            self.work_changed.emit("")
            return
        kind, folder = kinds[0]
        name = Path(folder).name if folder else ""
        text = {
            "open": "Opening the index…",
            "sync": f"Indexing {name}",
            "changes": f"Updating {name}",
            "remove": f"Removing {name} from the index",
            "rebuild": "Rebuilding the index",
        }.get(kind, "Working")
        more = len(kinds) - 1
        self.work_changed.emit(text + (f" (+{more} more)" if more else ""))

    # Jobs (index thread).

    def _kb_ready(self) -> SearchIndex:
        if self._kb is None:
            self._kb = self._factory()
        return self._kb

    def _syncer(self):
        if self._sync is None:
            from desktop_rag.core.folders import FolderStore
            from desktop_rag.core.ignore import IgnoreRules
            from desktop_rag.core.sync import SyncEngine  # imports lancedb: index thread only

            rules = IgnoreRules.from_patterns(self._ignore_patterns)
            self._sync = SyncEngine(self._kb_ready(), FolderStore(self._state_db), rules=rules)
        return self._sync

    def _open_job(self, ctx: JobContext):
        return self._kb_ready().status()

    def _status_job(self, ctx: JobContext):
        return self._kb_ready().status()

    def _outcome(self, folder: str, report: IndexReport | None) -> FolderOutcome:
        records = self._kb_ready().file_records(Path(folder))
        errors = sum(1 for r in records if r.status == "error")
        return FolderOutcome(folder, report, len(records) - errors, errors)

    def _sync_job(self, folder: str, retry_failed: bool, ctx: JobContext) -> FolderOutcome:
        report = self._syncer().reconcile(
            folder, progress=ctx.progress, cancel=ctx.cancel, retry_failed=retry_failed
        )
        if not report.available:
            return FolderOutcome(folder, None, 0, 0, available=False)
        return self._outcome(folder, report.index)

    def _changes_job(
        self, batch: object, folders: tuple[str, ...], ctx: JobContext
    ) -> list[FolderOutcome]:
        report = self._syncer().apply_batch(batch, progress=ctx.progress, cancel=ctx.cancel)
        return [self._outcome(folder, report.index) for folder in folders]

    def _remove_job(self, folder: str, ctx: JobContext) -> FolderOutcome:
        self._kb_ready().remove([Path(folder)])
        return FolderOutcome(folder, None, 0, 0)

    def _rebuild_job(
        self, factory: IndexFactory, ignore_patterns: tuple[str, ...], ctx: JobContext
    ):
        self._close_job(ctx)  # the sync engine is built again, with the new rules
        self._factory, self._ignore_patterns = factory, ignore_patterns
        if self._index_dir.exists():
            shutil.rmtree(self._index_dir)
        return self._kb_ready().status()

    def _replace_job(
        self, factory: IndexFactory, ignore_patterns: tuple[str, ...], ctx: JobContext
    ):
        self._close_job(ctx)  # the sync engine is built again, with the new rules
        self._factory, self._ignore_patterns = factory, ignore_patterns
        return self._kb_ready().status()

    def _close_job(self, ctx: JobContext | None) -> None:
        self._sync = None
        kb, self._kb = self._kb, None
        if kb is not None:
            kb.close()

    # Results (UI thread).

    @Slot(int, object)
    def _on_runner_progress(self, request_id: int, value: object) -> None:
        _kind, folder = self._requests.get(request_id, ("", ""))
        if folder and isinstance(value, Progress):
            self.progress.emit(folder, value)

    @Slot(int, object)
    def _on_runner_finished(self, request_id: int, result: object) -> None:
        kind, folder = self._requests.pop(request_id, ("", ""))
        if kind in ("open", "status", "rebuild"):
            self.status = result
            if kind == "open":
                self.opened.emit(result)
            self.status_changed.emit(result)
        elif kind == "remove":
            self.removed.emit(folder)
            self.refresh_status()
        elif kind == "sync":
            self.folder_done.emit(folder, result)
            self.refresh_status()
        elif kind == "changes":
            for outcome in result:
                self.folder_done.emit(outcome.folder, outcome)
            self.refresh_status()
        self._announce()

    @Slot(int, object)
    def _on_runner_failed(self, request_id: int, exc: object) -> None:
        kind, folder = self._requests.pop(request_id, ("", ""))
        message = describe_error(exc)
        if kind == "open":
            self.open_failed.emit(message)
        elif folder:
            self.folder_failed.emit(folder, message)
        else:
            self.open_failed.emit(message)
        self._announce()
