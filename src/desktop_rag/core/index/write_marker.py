"""One writer at a time per index, across processes, and a mark that outlives a killed one.

The app and `desktop-rag index` / `folders add` may write one index together (the README
invites it). Every logical write takes an OS-level file lock (`filelock`: flock/fcntl on
POSIX, LockFileEx on Windows; the OS drops it when its process dies), so two writers
interleave whole writes and never see each other's half. Inside the lock a marker file says
"a write is under way": LanceDB commits each operation on its own, so a kill between the
steps of one write leaves the tables out of step, and the marker, found by the next holder
of the lock, is the one sign that a repair is needed. Nobody repairs otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)
LOCK_FILE = "write.lock"
WAIT_NOTICE_S = 1.0  # say who we wait for after this long


def _log_wait(message: str) -> None:
    log.warning(message)


class IndexWriteLock:
    """`writing()` around each logical write; `recovering()` to check for a killed writer.

    Re-entrant within a process (the lock is held by the instance, counted per nesting), so
    a repair may call the store's own write methods.
    """

    def __init__(self, index_dir: Path, on_wait: Callable[[str], None] | None = None):
        self.marker = Path(index_dir) / "write-in-progress"
        self._file_lock = FileLock(str(Path(index_dir) / LOCK_FILE), thread_local=False)
        self._guard = threading.RLock()  # one thread of this process at a time
        self._depth = 0
        self.on_wait = on_wait or _log_wait

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the lock and the marker for one logical write. If the write raises, the
        marker stays (the tables may be half written) and the next holder repairs."""
        with self._held():
            if self._depth == 1:
                self.marker.write_text(str(os.getpid()), encoding="ascii")
            yield
            if self._depth == 1:
                self.marker.unlink(missing_ok=True)

    @contextlib.contextmanager
    def recovering(self) -> Iterator[bool]:
        """Hold the lock; yields True when a writer was killed mid-write (its marker is
        here while nobody holds the lock). The marker is cleared when the block ends."""
        with self._held():
            interrupted = self._depth == 1 and self.marker.exists()
            yield interrupted
            if interrupted:
                self.marker.unlink(missing_ok=True)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the lock without the marker: work that a kill cannot leave half done in a
        way repair would fix (compaction, new indexes)."""
        with self._held():
            yield

    def interrupted(self) -> bool:
        """A look without the lock (for status): a marker left by a dead writer, or by a
        writer at work in another process right now."""
        return self.marker.exists()

    @contextlib.contextmanager
    def _held(self) -> Iterator[None]:
        with self._guard:
            if self._depth == 0:
                self._acquire()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._file_lock.release()

    def _acquire(self) -> None:
        try:
            self._file_lock.acquire(timeout=WAIT_NOTICE_S)
            return
        except Timeout:
            pass
        started = time.monotonic()
        self.on_wait(
            f"waiting for another Desktop RAG process ({_holder(self.marker)}) that is "
            "writing this index; it goes on when that write is done"
        )
        self._file_lock.acquire()
        log.info("waited %.1f s for the index write lock", time.monotonic() - started)


def _holder(marker: Path) -> str:
    try:
        pid = int(marker.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return "the app or `desktop-rag watch`"
    return f"process {pid}: the app, `desktop-rag watch` or `index`"
