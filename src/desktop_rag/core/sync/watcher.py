"""Watch folders with watchdog and hand over debounced batches. Qt-free, callback-based.

Watchdog callbacks run on watchdog's thread and only drop events into the `Debouncer`. The
debouncer's own thread waits for a quiet period (or a maximum delay, so a steady stream of
changes still gets indexed) and calls `on_batch(ChangeBatch)` with everything coalesced.
Where the OS refuses a native watch (Linux inotify limits: ENOSPC, EMFILE, ENFILE), the folder
is reported through `on_fallback` and left to periodic rescans instead of going unwatched.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
import time
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from desktop_rag.core.ingest.ignore import IgnoreRules
from desktop_rag.core.sync.changes import (
    CHANGED,
    DELETED,
    MOVED,
    ChangeBatch,
    FsEvent,
    coalesce,
)

log = logging.getLogger(__name__)
LIMIT_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE, errno.ENFILE})
_CHANGE_TYPES = {"created", "modified", "closed", "attrib"}


class Debouncer:
    """Collect events; release them as one batch after `quiet_s` of silence or `max_delay_s`."""

    def __init__(
        self,
        on_batch: Callable[[ChangeBatch], None],
        *,
        quiet_s: float = 0.7,
        max_delay_s: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._on_batch = on_batch
        self.quiet_s = quiet_s
        self.max_delay_s = max_delay_s
        self._clock = clock
        self._events: list[FsEvent] = []
        self._first = self._last = 0.0
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add(self, event: FsEvent) -> None:
        with self._cond:
            now = self._clock()
            if not self._events:
                self._first = now
            self._last = now
            self._events.append(event)
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._events)

    def _seconds_until_due(self, now: float) -> float | None:
        if not self._events:
            return None
        return max(0.0, min(self._last + self.quiet_s, self._first + self.max_delay_s) - now)

    def take_if_due(self, now: float | None = None) -> ChangeBatch | None:
        """The coalesced batch when it is due, else None (the thread's step; tests call it)."""
        with self._cond:
            wait = self._seconds_until_due(self._clock() if now is None else now)
            if wait is None or wait > 0:
                return None
            events, self._events = self._events, []
        return coalesce(events)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sync-debouncer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    wait = self._seconds_until_due(self._clock())
                    if wait == 0.0:
                        break
                    self._cond.wait(timeout=wait)
                if self._stopped:
                    return
            batch = self.take_if_due()
            if batch:
                try:
                    self._on_batch(batch)
                except Exception:  # a failing consumer must not end the watching
                    log.exception("the change batch could not be handed over")


class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: translate, filter, enqueue. Nothing slow here."""

    def __init__(self, root: str, rules: IgnoreRules, sink: Callable[[FsEvent], None]):
        self.root = root
        self.rules = rules
        self.sink = sink

    def _ignored(self, path: str, is_dir: bool) -> bool:
        rel = os.path.relpath(path, self.root)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            return True  # moved out of the watched folder: treated as a deletion by the caller
        return rel != "." and self.rules.ignores(rel.replace(os.sep, "/"), is_dir)

    def on_any_event(self, event: FileSystemEvent) -> None:
        src = os.fsdecode(event.src_path)
        is_dir = event.is_directory
        if event.event_type == "moved":
            dst = os.fsdecode(event.dest_path)
            src_out, dst_out = self._ignored(src, is_dir), self._ignored(dst, is_dir)
            if not src_out and not dst_out:
                self.sink(FsEvent(MOVED, src, dst, is_dir))
            elif not dst_out:  # temp file renamed over the real one: the real one changed
                self.sink(FsEvent(CHANGED, dst, is_dir=is_dir))
            elif not src_out:  # renamed to a temp or backup name, or out of the folder
                self.sink(FsEvent(DELETED, src, is_dir=is_dir))
            return
        if is_dir and event.event_type not in ("created", "deleted"):
            return  # a folder's own modified/attrib events only echo its children's
        if self._ignored(src, is_dir):
            return
        if event.event_type in _CHANGE_TYPES:
            self.sink(FsEvent(CHANGED, src, is_dir=is_dir))
        elif event.event_type == "deleted":
            self.sink(FsEvent(DELETED, src, is_dir=is_dir))


class FolderWatcher:
    """One observer for all watched folders, plus the folders left to periodic rescans."""

    def __init__(
        self,
        on_batch: Callable[[ChangeBatch], None],
        rules: IgnoreRules,
        *,
        quiet_s: float = 0.7,
        max_delay_s: float = 4.0,
        on_fallback: Callable[[str, str], None] | None = None,
        observer_factory: Callable[[], BaseObserver] = Observer,
    ):
        self.rules = rules
        self.debouncer = Debouncer(on_batch, quiet_s=quiet_s, max_delay_s=max_delay_s)
        self._on_fallback = on_fallback or (lambda folder, reason: None)
        self._observer_factory = observer_factory
        self._observer: BaseObserver | None = None
        self._watches: dict[str, ObservedWatch] = {}
        self.polled: set[str] = set()  # folders the native observer refused
        self._observer_failure = ""
        self._lock = threading.Lock()

    def start(self) -> None:
        self.debouncer.start()
        try:
            self._observer = self._observer_factory()
            self._observer.start()
        except OSError as exc:
            if exc.errno not in LIMIT_ERRNOS:
                raise
            self._observer = None
            self._observer_failure = _limit_message(exc)

    def watch(self, folder: str) -> bool:
        """Watch natively; False when the folder must be rescanned periodically instead."""
        with self._lock:
            if folder in self._watches or folder in self.polled:
                return folder in self._watches
            if self._observer is None:
                return self._fall_back(folder, self._observer_failure)
            handler = _Handler(folder, self.rules, self.debouncer.add)
            try:
                self._watches[folder] = self._observer.schedule(handler, folder, recursive=True)
            except OSError as exc:
                if exc.errno not in LIMIT_ERRNOS:
                    raise
                return self._fall_back(folder, _limit_message(exc))
            return True

    def _fall_back(self, folder: str, reason: str) -> bool:
        self.polled.add(folder)
        self._on_fallback(folder, reason)
        return False

    def unwatch(self, folder: str) -> None:
        with self._lock:
            self.polled.discard(folder)
            watch = self._watches.pop(folder, None)
            if watch is not None and self._observer is not None:
                # The folder may have vanished and watchdog already dropped its watch.
                with contextlib.suppress(KeyError, OSError):
                    self._observer.unschedule(watch)

    def watched(self) -> set[str]:
        with self._lock:
            return set(self._watches)

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        self.debouncer.stop()


def _limit_message(exc: OSError) -> str:
    what = {
        errno.ENOSPC: "the system's limit on watched folders (fs.inotify.max_user_watches)",
        errno.EMFILE: "the system's limit on file watchers (fs.inotify.max_user_instances)",
        errno.ENFILE: "the system's limit on open files",
    }.get(exc.errno or 0, str(exc))
    return f"reached {what}; changes are picked up by periodic rescans instead"
