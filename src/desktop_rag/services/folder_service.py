"""Watched folders: their saved list, their live state, and the work they cause.

Lives on the UI thread. The folder list is saved by `core.folders.FolderStore`; indexing
goes to the index service, change notifications come from the watch service. A timer
notices folders that disappear (an unplugged drive) or come back, and rescans folders the
OS refused to watch natively.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.folders import FolderStore, is_under, probe
from desktop_rag.core.records import Progress
from desktop_rag.services.folder_status import FolderState, FolderStatus
from desktop_rag.services.index_service import FolderOutcome, IndexService
from desktop_rag.services.watch_service import WatchService

CHECK_INTERVAL_MS = 15_000
RESCAN_INTERVAL_S = 300.0


class FolderService(QObject):
    folder_changed = Signal(object)  # FolderStatus
    folder_removed = Signal(str)
    notice = Signal(str)  # a sentence for the status bar or a message box

    def __init__(
        self,
        store: FolderStore,
        index: IndexService,
        watch: WatchService,
        parent: QObject | None = None,
        check_interval_ms: int = CHECK_INTERVAL_MS,
    ):
        super().__init__(parent)
        self.store = store
        self.index = index
        self.watch = watch
        self._status: dict[str, FolderStatus] = {}
        self._last_sync: dict[str, float] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(check_interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        index.progress.connect(self._on_index_progress)
        index.folder_done.connect(self._on_index_folder_done)
        index.folder_failed.connect(self._on_index_folder_failed)
        watch.changed.connect(self._on_watch_changed)
        watch.fallback.connect(self._on_watch_fallback)

    def statuses(self) -> list[FolderStatus]:
        return [self._status[p] for p in sorted(self._status)]

    def status(self, folder: str) -> FolderStatus | None:
        return self._status.get(folder)

    def start(self) -> None:
        """Show the saved folders, start watching, and catch up on changes made while closed."""
        self.watch.start()
        for folder in self.store.list():
            available, _device = probe(folder)
            if available != folder.available:
                self.store.set_available(folder.path, available)
            if not available:
                self._set(folder.path, state=FolderState.UNAVAILABLE)
            elif folder.paused:
                self._set(folder.path, state=FolderState.PAUSED)
            else:
                self._start_watching(folder.path)
        self._timer.start()

    def add(self, path: str) -> str | None:
        """Watch and index a folder; returns the folder added, or None with a notice why not."""
        try:
            result = self.store.add(path)
        except UserFacingError as exc:
            self.notice.emit(str(exc))
            return None
        if result.covered_by:
            self.notice.emit(f"{path} is already indexed as part of {result.covered_by}.")
            return None
        assert result.folder is not None
        for absorbed in result.absorbed:  # their chunks already belong to the new parent
            self.watch.unwatch(absorbed)
            self._drop(absorbed)
        if result.already_watched:
            self.notice.emit(f"{result.folder.path} is already watched.")
            return result.folder.path
        self._start_watching(result.folder.path)
        return result.folder.path

    def remove(self, folder: str) -> None:
        self.watch.unwatch(folder)
        try:
            self.store.remove(folder)
        except UserFacingError as exc:
            self.notice.emit(str(exc))
        self.index.remove_folder(folder)
        self._drop(folder)

    def pause(self, folder: str) -> None:
        self.store.set_paused(folder, True)
        self.watch.unwatch(folder)
        self.index.cancel_folder(folder)
        self._set(folder, state=FolderState.PAUSED, done=0, total=0, eta_s=None)

    def resume(self, folder: str) -> None:
        self.store.set_paused(folder, False)
        self._start_watching(folder)

    def reindex(self, folder: str) -> None:
        """Asked for by a person: files that failed before are read again too."""
        if Path(folder).is_dir():
            self._sync(folder, retry_failed=True)

    def retry_failed(self) -> None:
        """Read again the files that could not be indexed, in every folder that has some."""
        for folder, status in sorted(self._status.items()):
            if status.errors and status.state is FolderState.WATCHING:
                self._sync(folder, retry_failed=True)

    def reindex_all(self) -> None:
        for folder, status in sorted(self._status.items()):
            if status.state not in (FolderState.PAUSED, FolderState.UNAVAILABLE):
                self._sync(folder)

    def stop(self) -> None:
        self._timer.stop()
        self.watch.stop()

    # Internals.

    def _start_watching(self, folder: str) -> None:
        self.watch.watch(folder)
        self._sync(folder)

    def _sync(self, folder: str, *, retry_failed: bool = False) -> None:
        self._last_sync[folder] = time.monotonic()
        self._set(folder, state=FolderState.QUEUED, done=0, total=0, eta_s=None)
        self.index.sync_folder(folder, retry_failed=retry_failed)

    def _set(self, folder: str, **changes) -> FolderStatus:
        old = self._status.get(folder)
        new = FolderStatus(**{**(old or FolderStatus(folder)).__dict__, **changes})
        self._status[folder] = new
        if new != old:
            self.folder_changed.emit(new)
        return new

    def _drop(self, folder: str) -> None:
        if self._status.pop(folder, None) is not None:
            self.folder_removed.emit(folder)

    def _owner(self, path: str) -> str | None:
        return next((f for f in self._status if is_under(path, f)), None)

    # Signals from the services.

    @Slot(str, object)
    def _on_index_progress(self, folder: str, progress: Progress) -> None:
        status = self._status.get(folder)
        if status is None or status.state is FolderState.PAUSED:
            return
        self._set(
            folder,
            state=FolderState.INDEXING,
            done=progress.done,
            total=progress.total,
            eta_s=progress.eta_s,
            phase=progress.phase,
            current=progress.current,
        )

    @Slot(str, object)
    def _on_index_folder_done(self, folder: str, outcome: FolderOutcome) -> None:
        if folder not in self._status:
            return
        if not outcome.available:
            self._set(folder, state=FolderState.UNAVAILABLE, done=0, total=0, eta_s=None)
            return
        saved = self.store.get(folder)
        state = FolderState.PAUSED if saved and saved.paused else FolderState.WATCHING
        self._set(
            folder,
            state=state,
            files=outcome.files,
            errors=outcome.errors,
            done=0,
            total=0,
            eta_s=None,
            phase="",
            current="",
        )
        if outcome.report is not None and not outcome.report.cancelled:
            self.store.mark_reconciled(folder)

    @Slot(str, str)
    def _on_index_folder_failed(self, folder: str, message: str) -> None:
        if folder not in self._status:
            return  # removed meanwhile
        saved = self.store.get(folder)
        state = FolderState.PAUSED if saved and saved.paused else FolderState.WATCHING
        self._set(folder, state=state, done=0, total=0, eta_s=None)
        self.notice.emit(f"Indexing {Path(folder).name} failed: {message}")

    @Slot(object)
    def _on_watch_changed(self, batch: object) -> None:
        paths = [
            *getattr(batch, "paths", ()),
            *getattr(batch, "dirs", ()),
            *(m.old for m in getattr(batch, "moves", ())),
            *(m.new for m in getattr(batch, "moves", ())),
        ]
        folders = sorted({f for p in paths if (f := self._owner(p))})
        active = [
            f
            for f in folders
            if self._status[f].state not in (FolderState.PAUSED, FolderState.UNAVAILABLE)
        ]
        if active:
            self.index.apply_changes(batch, active)

    @Slot(str, str)
    def _on_watch_fallback(self, folder: str, reason: str) -> None:
        self.notice.emit(f"{Path(folder).name}: {reason}")

    @Slot()
    def _on_timer_timeout(self) -> None:
        now = time.monotonic()
        polled = self.watch.polled()
        for folder, status in list(self._status.items()):
            saved = self.store.get(folder)
            available = saved is not None and probe(saved)[0]
            if not available and status.state is not FolderState.UNAVAILABLE:
                self.watch.unwatch(folder)
                self.index.cancel_folder(folder)
                self.store.set_available(folder, False)
                self._set(folder, state=FolderState.UNAVAILABLE, done=0, total=0)
            elif available and status.state is FolderState.UNAVAILABLE:
                self.store.set_available(folder, True)
                if saved.paused:
                    self._set(folder, state=FolderState.PAUSED)
                else:
                    self._start_watching(folder)
            elif folder in polled and now - self._last_sync.get(folder, 0) > RESCAN_INTERVAL_S:
                self._sync(folder)
