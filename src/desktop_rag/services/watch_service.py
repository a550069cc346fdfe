"""Watchdog, for Qt. Watchdog's threads only hand batches over through a signal.

`core.watch.FolderWatcher` debounces events on its own thread and calls back there; the
callback emits `changed`, which Qt queues to the UI thread, and the folder service sends
the batch on to the index thread. Nothing else runs on watchdog's threads.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from desktop_rag.core.ignore import IgnoreRules

log = logging.getLogger(__name__)


class WatchService(QObject):
    changed = Signal(object)  # core.changes.ChangeBatch
    fallback = Signal(str, str)  # folder, reason: watched by periodic rescans instead

    def __init__(self, ignore_patterns: tuple[str, ...] = (), *, quiet_s: float = 0.7, parent=None):
        super().__init__(parent)
        self._rules = IgnoreRules.from_patterns(ignore_patterns)
        self._quiet_s = quiet_s
        self._watcher = None
        self._folders: set[str] = set()

    def start(self) -> None:
        if self._watcher is not None:
            return
        from desktop_rag.core.watch import FolderWatcher  # imports watchdog

        self._watcher = FolderWatcher(
            self._on_watcher_batch,
            self._rules,
            quiet_s=self._quiet_s,
            on_fallback=self._on_watcher_fallback,
        )
        self._watcher.start()
        for folder in sorted(self._folders):
            self._watch_now(folder)

    def watch(self, folder: str) -> None:
        self._folders.add(folder)
        if self._watcher is not None:
            self._watch_now(folder)

    def unwatch(self, folder: str) -> None:
        self._folders.discard(folder)
        if self._watcher is not None:
            self._watcher.unwatch(folder)

    def set_ignore_patterns(self, patterns: tuple[str, ...]) -> None:
        self._rules = IgnoreRules.from_patterns(patterns)
        if self._watcher is not None:  # each folder's handler keeps the rules it began with
            self.stop()
            self.start()

    def watched(self) -> set[str]:
        return set(self._folders)

    def polled(self) -> set[str]:
        """Folders the OS would not watch natively; the folder service rescans them."""
        return set(self._watcher.polled) if self._watcher is not None else set()

    def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _watch_now(self, folder: str) -> None:
        try:
            self._watcher.watch(folder)
        except OSError as exc:  # the folder vanished between the check and the watch
            log.info("cannot watch %s: %s", folder, exc)

    # Called on watchdog's and the debouncer's threads: only emit.

    def _on_watcher_batch(self, batch: object) -> None:
        self.changed.emit(batch)

    def _on_watcher_fallback(self, folder: str, reason: str) -> None:
        self.fallback.emit(folder, reason)
