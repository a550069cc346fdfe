"""Watched folders: their saved list and their live state, for the window.

Lives on the UI thread and touches no file system: the saved list is SQLite
(`core.sync.folders.FolderStore`), and everything else (watching, availability probes, rescans,
indexing) is done by the sync loop on the index thread (`IndexService`), whose reports this
service turns into each folder's `FolderStatus`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.records import Progress
from desktop_rag.core.sync.folders import FolderStore
from desktop_rag.services.folder_status import FolderState, FolderStatus
from desktop_rag.services.index_service import IndexService

if TYPE_CHECKING:  # watchdog, LanceDB: the index thread imports them on first use
    from desktop_rag.core.sync.engine import SyncEvent
    from desktop_rag.core.sync.loop import FolderSummary

_IDLE = {"done": 0, "total": 0, "eta_s": None, "phase": "", "current": "", "page": 0, "pages": 0}


class FolderService(QObject):
    folder_changed = Signal(object)  # FolderStatus
    folder_removed = Signal(str)
    notice = Signal(str)  # a sentence for the status bar or a message box

    def __init__(self, store: FolderStore, index: IndexService, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.index = index
        self._status: dict[str, FolderStatus] = {}
        index.progress.connect(self._on_index_progress)
        index.folder_done.connect(self._on_index_folder_done)
        index.folder_failed.connect(self._on_index_folder_failed)
        index.event.connect(self._on_index_event)

    def statuses(self) -> list[FolderStatus]:
        return [self._status[p] for p in sorted(self._status)]

    def status(self, folder: str) -> FolderStatus | None:
        return self._status.get(folder)

    def start(self) -> None:
        """Show the saved folders as last known; the sync loop reconciles the active ones
        (changes made while the app was closed) and reports what it finds."""
        for folder in self.store.list():
            if folder.paused:
                state = FolderState.PAUSED
            elif not folder.available:
                state = FolderState.UNAVAILABLE
            else:
                state = FolderState.QUEUED
            self._set(folder.path, state=state)

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
            self._drop(absorbed)
        if result.already_watched:
            self.notice.emit(f"{result.folder.path} is already watched.")
            return result.folder.path
        self._sync(result.folder.path)
        return result.folder.path

    def remove(self, folder: str) -> None:
        try:
            self.store.remove(folder)
        except UserFacingError as exc:
            self.notice.emit(str(exc))
        self.index.remove_folder(folder)
        self._drop(folder)

    def pause(self, folder: str) -> None:
        self.store.set_paused(folder, True)
        self.index.cancel_folder(folder)
        self.index.folders_changed()
        self._set(folder, state=FolderState.PAUSED, **_IDLE)

    def resume(self, folder: str) -> None:
        self.store.set_paused(folder, False)
        self._sync(folder)

    def reindex(self, folder: str) -> None:
        """Asked for by a person: files that failed before are read again too."""
        self._sync(folder, retry_failed=True)

    def retry_failed(self) -> None:
        """Read again the files that could not be indexed, in every folder that has some."""
        for folder, status in sorted(self._status.items()):
            if status.errors and status.state is FolderState.WATCHING:
                self._sync(folder, retry_failed=True)

    def stop(self) -> None:
        """Nothing runs here; the index service stops the loop."""

    # Internals.

    def _sync(self, folder: str, *, retry_failed: bool = False) -> None:
        self._set(folder, state=FolderState.QUEUED, **_IDLE)
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

    def _settled_state(self, folder: str) -> FolderState:
        saved = self.store.get(folder)
        return FolderState.PAUSED if saved and saved.paused else FolderState.WATCHING

    # Signals from the index service.

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
            page=progress.page,
            pages=progress.pages,
        )

    @Slot(str, object)
    def _on_index_folder_done(self, folder: str, summary: FolderSummary) -> None:
        if folder not in self._status:
            return  # removed meanwhile
        if not summary.available:
            self._set(folder, state=FolderState.UNAVAILABLE, **_IDLE)
            return
        self._set(
            folder,
            state=self._settled_state(folder),
            files=summary.files,
            errors=summary.errors,
            **_IDLE,
        )

    @Slot(str, str)
    def _on_index_folder_failed(self, folder: str, message: str) -> None:
        if folder not in self._status:
            return  # removed meanwhile
        self._set(folder, state=self._settled_state(folder), **_IDLE)
        self.notice.emit(f"Indexing {Path(folder).name} failed: {message}")

    @Slot(object)
    def _on_index_event(self, event: SyncEvent) -> None:
        """From the sync engine, on the loop's thread."""
        if event.action == "unavailable" and event.path in self._status:
            self._set(event.path, state=FolderState.UNAVAILABLE, **_IDLE)
        elif event.action == "available" and event.path in self._status:
            self._set(event.path, state=FolderState.QUEUED, **_IDLE)
        elif event.action == "polling":
            self.notice.emit(f"{Path(event.path).name}: {event.detail}")
