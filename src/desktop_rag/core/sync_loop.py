"""The long-running watch: reconcile every folder, then apply debounced batches until stopped.

Runs on the thread that calls `run()` (the CLI's main thread, or one worker thread in the
app); that thread is the only one that touches the `SyncEngine`. Other threads talk to it
through `submit(job)`, which runs the job between batches, and the `stop` Event.

Timers on the same thread:
- every `availability_s`: folders that vanished or came back (remounted drives), and folders
  added, removed, paused or resumed meanwhile (also from another process: the CLI);
- every `poll_s`: rescans of folders the OS would not watch natively (inotify limits);
- every `rescan_s`: a stat-only rescan of everything, a safety net for lost events.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from watchdog.observers import Observer

from desktop_rag.core.changes import ChangeBatch
from desktop_rag.core.sync import PauseGate, ProgressFn, SyncEngine
from desktop_rag.core.watch import FolderWatcher


@dataclass(frozen=True)
class WatchTiming:
    quiet_s: float = 0.7  # wait this long after the last event of a burst
    max_delay_s: float = 4.0  # ... but never longer than this after its first event
    availability_s: float = 10.0
    poll_s: float = 30.0
    rescan_s: float = 1800.0  # 0 turns the safety rescan off


class WatchLoop:
    def __init__(
        self,
        engine: SyncEngine,
        timing: WatchTiming = WatchTiming(),
        *,
        observer_factory: Callable = Observer,
    ):
        self.engine = engine
        self.timing = timing
        self._observer_factory = observer_factory
        self._queue: queue.Queue[ChangeBatch | Callable[[], object]] = queue.Queue()
        self._watcher: FolderWatcher | None = None

    def submit(self, job: Callable[[], object]) -> None:
        """Run `job()` on the loop's thread between batches (thread-safe)."""
        self._queue.put(job)

    def run(
        self,
        stop: threading.Event,
        *,
        progress: ProgressFn | None = None,
        pause: PauseGate | None = None,
        ready: threading.Event | None = None,
    ) -> None:
        """Block until `stop` is set. `ready` is set once the first reconcile is done."""
        job = {"progress": progress, "cancel": stop, "pause": pause}
        watcher = FolderWatcher(
            self._queue.put,
            self.engine.rules,
            quiet_s=self.timing.quiet_s,
            max_delay_s=self.timing.max_delay_s,
            on_fallback=self._on_fallback,
            observer_factory=self._observer_factory,
        )
        self._watcher = watcher
        self.engine.on_unavailable = watcher.unwatch
        watcher.start()
        try:
            # Watch before reconciling: a change made during the first scan is not lost.
            self._sync_watches()
            self._guarded(lambda: self.engine.reconcile_all(**job))
            if ready is not None:
                ready.set()
            self._loop(stop, job)
        finally:
            self.engine.on_unavailable = lambda folder: None
            watcher.stop()
            self._watcher = None

    def _loop(self, stop: threading.Event, job: dict) -> None:
        t = self.timing
        now = time.monotonic()
        due = {"availability": now + t.availability_s, "poll": now + t.poll_s}
        if t.rescan_s > 0:
            due["rescan"] = now + t.rescan_s
        while not stop.is_set():
            wait = max(0.0, min(min(due.values()) - time.monotonic(), 0.5))
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = None
            if isinstance(item, ChangeBatch):
                self._guarded(lambda b=item: self.engine.apply_batch(b, **job))
            elif item is not None:
                self._guarded(item)
            now = time.monotonic()
            if stop.is_set():
                break
            if now >= due["availability"]:
                self._guarded(lambda: self._check_folders(job))
                due["availability"] = now + t.availability_s
            if now >= due["poll"]:
                for folder in sorted(self._watcher.polled if self._watcher else ()):
                    self._guarded(lambda f=folder: self.engine.reconcile(f, **job))
                due["poll"] = now + t.poll_s
            if "rescan" in due and now >= due["rescan"]:
                self._guarded(lambda: self.engine.reconcile_all(**job))
                due["rescan"] = now + t.rescan_s

    def _check_folders(self, job: dict) -> None:
        for folder in self.engine.check_availability():
            if self._watcher is not None:
                self._watcher.unwatch(folder.path)  # its old watch died with the mount
        for path in self._sync_watches():
            self.engine.reconcile(path, **job)

    def _sync_watches(self) -> list[str]:
        """Watch exactly the active folders; returns those newly watched."""
        if self._watcher is None:
            return []
        active = {f.path for f in self.engine.folders.list() if f.active}
        current = self._watcher.watched() | self._watcher.polled
        for path in sorted(current - active):
            self._watcher.unwatch(path)
        added = sorted(active - current)
        for path in added:
            self._watcher.watch(path)
        return added

    def _on_fallback(self, folder: str, reason: str) -> None:
        self.engine.emit("polling", folder, reason)

    def _guarded(self, work: Callable[[], object]) -> None:
        """One failing job is reported; the watch goes on."""
        try:
            work()
        except Exception as exc:  # anything from one batch must not end the watch
            self.engine.emit("error", "", f"{type(exc).__name__}: {exc}")
