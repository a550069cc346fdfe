"""The one way the app runs work off the UI thread.

A `TaskRunner` owns a `QThread` with one long-lived worker object on it. Jobs reach the
worker through a queued signal and run one at a time, in order, so the resource a runner
guards (the index, the loaded model) has exactly one owner thread. Results come back as
signals tagged with the request id; cancelling sets a `threading.Event` from the UI thread,
which the job checks between files, batches or tokens.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What a job gets: its id, a cancel flag, and a way to report progress."""

    request_id: int
    cancel: threading.Event
    _emit_progress: Callable[[int, object], None] = field(repr=False)

    def progress(self, value: object) -> None:
        self._emit_progress(self.request_id, value)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()


Job = Callable[[JobContext], object]  # its result is what `finished` carries


@dataclass(frozen=True)
class _Request:
    request_id: int
    job: Job
    cancel: threading.Event


class _Worker(QObject):
    """Lives on the runner's thread; runs each request to the end before the next."""

    progress = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, object)

    @Slot(object)
    def _on_runner_submitted(self, request: _Request) -> None:
        ctx = JobContext(request.request_id, request.cancel, self.progress.emit)
        try:
            result = request.job(ctx)
        except BaseException as exc:  # a failing job must never kill the worker thread
            log.warning("job %s failed: %s", request.request_id, traceback.format_exc())
            self.failed.emit(request.request_id, exc)
        else:
            self.finished.emit(request.request_id, result)


class TaskRunner(QObject):
    """A serial background worker. Signals carry `(request_id, payload)`.

    `finished` carries the job's return value, `failed` the exception it raised,
    `progress` whatever the job passed to `ctx.progress`.
    """

    submitted = Signal(object)
    progress = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, object)

    _ids = itertools.count(1)  # shared so request ids are unique across runners
    # Threads whose job outlived `shutdown`'s wait. Qt aborts the process when a running
    # QThread is destroyed, so they are kept here until they finish.
    _unfinished: ClassVar[set[tuple[QThread, QObject]]] = set()

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self.submitted.connect(self._worker._on_runner_submitted)
        self._worker.progress.connect(self._on_worker_progress)
        self._worker.finished.connect(self._on_worker_finished)
        self._worker.failed.connect(self._on_worker_failed)
        self._cancels: dict[int, threading.Event] = {}
        self._running = False
        self._closed = False

    def start(self) -> None:
        if not self._running and not self._closed:
            self._thread.start()
            self._running = True

    def submit(self, job: Job) -> int:
        """Queue `job`; returns its request id. Starts the thread on first use.

        After `shutdown` jobs are dropped: a late result handler must not restart the thread.
        """
        request_id = next(TaskRunner._ids)
        if self._closed:
            log.info("%s: dropped a job submitted after shutdown", self._thread.objectName())
            return request_id
        self.start()
        cancel = threading.Event()
        self._cancels[request_id] = cancel
        self.submitted.emit(_Request(request_id, job, cancel))
        return request_id

    def cancel(self, request_id: int) -> None:
        event = self._cancels.get(request_id)
        if event is not None:
            event.set()

    def cancel_all(self) -> None:
        for event in self._cancels.values():
            event.set()

    def pending(self) -> int:
        """Requests queued or running."""
        return len(self._cancels)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything, stop the thread and wait for it. True when it stopped in time."""
        self.cancel_all()
        self._closed = True
        if not self._running:
            return True
        self._thread.quit()
        stopped = bool(self._thread.wait(timeout_ms))
        self._running = False
        if not stopped:
            log.warning("%s: a job is still running after shutdown", self._thread.objectName())
            pair = (self._thread, self._worker)
            TaskRunner._unfinished.add(pair)
            self._thread.finished.connect(functools.partial(TaskRunner._unfinished.discard, pair))
        return stopped

    @staticmethod
    def unfinished() -> int:
        """Threads still running a job after their runner was shut down."""
        return sum(1 for thread, _ in TaskRunner._unfinished if thread.isRunning())

    @Slot(int, object)
    def _on_worker_progress(self, request_id: int, value: object) -> None:
        if request_id in self._cancels:
            self.progress.emit(request_id, value)

    @Slot(int, object)
    def _on_worker_finished(self, request_id: int, result: object) -> None:
        self._cancels.pop(request_id, None)
        self.finished.emit(request_id, result)

    @Slot(int, object)
    def _on_worker_failed(self, request_id: int, exc: BaseException) -> None:
        self._cancels.pop(request_id, None)
        self.failed.emit(request_id, exc)
