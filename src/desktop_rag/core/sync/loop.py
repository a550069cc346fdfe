"""The one watch loop: the app and `desktop-rag watch` both run it to keep folders in sync.

`WatchLoop.run()` blocks on the thread that calls it (the CLI's main thread, the app's index
thread); that thread is the only one that touches the `SyncEngine`. Every piece of work is a
`LoopJob` in one queue, run in order: watcher batches, requests from other threads (sync a
folder, remove it, new settings, a status read), and the loop's own timers:

- every `availability_s`: folders that vanished or came back (unplugged drives, network
  mounts: the probes run here, never on a UI thread), and folders added, removed, paused or
  resumed meanwhile (also from another process);
- every `poll_s`: rescans of folders the OS would not watch natively (inotify limits);
- every `rescan_s`: a stat-only rescan of everything, a safety net for lost events.

What happens is reported to a `SyncListener` (the CLI prints, the app relays Qt signals):
progress per folder, a `FolderSummary` after each job that touched a folder, failures, and
what the loop is busy with. The engine's own `SyncEvent`s go to its `on_event`.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.observers import Observer

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.records import IndexReport, Progress
from desktop_rag.core.sync.changes import ChangeBatch
from desktop_rag.core.sync.engine import PauseGate, ProgressFn, SyncEngine
from desktop_rag.core.sync.folders import is_under
from desktop_rag.core.sync.watcher import FolderWatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchTiming:
    quiet_s: float = 0.7  # wait this long after the last event of a burst
    max_delay_s: float = 4.0  # ... but never longer than this after its first event
    availability_s: float = 10.0
    poll_s: float = 30.0
    rescan_s: float = 1800.0  # 0 turns the safety rescan off


@dataclass(frozen=True)
class FolderSummary:
    """A watched folder after a job touched it: what a folder list shows."""

    folder: str
    files: int  # indexed files under it now
    errors: int  # files under it that could not be read
    available: bool = True  # False: it could not be reached; its index was kept
    cancelled: bool = False
    report: IndexReport | None = None


class SyncListener:
    """What a loop tells its owner; every method runs on the loop's thread. No-ops here."""

    def busy(self, text: str) -> None:
        """What the loop works on now ("Indexing notes"), "" when it is idle."""

    def progress(self, folder: str, progress: Progress) -> None:
        """Between files and batches of a job about `folder`."""

    def synced(self, summary: FolderSummary) -> None:
        """After each job, for every folder it touched."""

    def failed(self, folder: str, message: str) -> None:
        """A job about `folder` ("" for none) raised; the loop goes on."""


@dataclass
class JobControl:
    """What a job gets: its cancel flag, the pause gate, and progress for a folder."""

    cancel: threading.Event
    pause: PauseGate | None
    _listener: SyncListener

    def progress(self, folder: str) -> ProgressFn:
        def report(p: Progress) -> None:
            self._listener.progress(folder, p)

        return report

    def job(self, folder: str) -> dict:
        """The keyword arguments `SyncEngine` jobs take."""
        return {"progress": self.progress(folder), "cancel": self.cancel, "pause": self.pause}


@dataclass
class LoopJob:
    """Work for the loop's thread. `folders`: what it is about (for cancel_folder);
    `on_done(result)` / `on_error(exc)` run on the loop's thread after it."""

    run: Callable[[JobControl], object]
    title: str = ""
    folders: tuple[str, ...] = ()
    on_done: Callable[[object], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


EngineFactory = Callable[[], SyncEngine]


class WatchLoop:
    def __init__(
        self,
        engine: SyncEngine | EngineFactory,
        timing: WatchTiming = WatchTiming(),
        *,
        listener: SyncListener | None = None,
        observer_factory: Callable = Observer,
    ):
        """`engine` may be a factory: the app builds it on the loop's thread (torch, LanceDB
        and the embedding model load there, after the window is up)."""
        self._factory: EngineFactory = engine if callable(engine) else (lambda: engine)
        self.engine: SyncEngine | None = None if callable(engine) else engine
        self.timing = timing
        self.listener = listener or SyncListener()
        self._observer_factory = observer_factory
        self._queue: queue.Queue[LoopJob] = queue.Queue()
        self._watcher: FolderWatcher | None = None
        self._lock = threading.Lock()
        self._jobs: list[LoopJob] = []  # queued or running, for cancel_folder
        self._stop = threading.Event()
        self._pause: PauseGate | None = None
        self._running = False  # run() has set up: a late-opened engine starts watching

    # -- requests: any thread ---------------------------------------------------------

    def submit(self, job: LoopJob) -> LoopJob:
        """Run `job` on the loop's thread after the jobs queued before it (thread-safe)."""
        with self._lock:
            self._jobs.append(job)
            if self._stop.is_set():
                job.cancel.set()
        self._queue.put(job)
        return job

    def sync(self, folder: str, *, retry_failed: bool = False) -> LoopJob:
        """Bring one folder's index in line with the disk; `retry_failed` also reads again
        the files that could not be indexed. Reported through `listener.synced`."""

        def run(ctl: JobControl) -> None:
            self._sync_watches()
            self._reconcile(folder, ctl, retry_failed=retry_failed)

        return self.submit(LoopJob(run, f"Indexing {_name(folder)}", (folder,)))

    def refresh_folders(self) -> LoopJob:
        """Re-read the folder list now (added, removed, paused, resumed elsewhere)."""
        return self.submit(LoopJob(lambda ctl: self._sync_watches()))

    def forget(self, folder: str, *, on_done: Callable[[object], None] | None = None) -> LoopJob:
        """Stop watching a folder that left the saved list and delete its chunks; `on_done`
        gets the folder."""
        self.cancel_folder(folder)

        def run(ctl: JobControl) -> str:
            self._sync_watches()
            self._engine().kb.remove([Path(folder)])
            return folder

        return self.submit(
            LoopJob(run, f"Removing {_name(folder)} from the index", on_done=on_done)
        )

    def cancel_all(self) -> None:
        """Cancel every queued and running job; the loop goes on."""
        with self._lock:
            for job in self._jobs:
                job.cancel.set()

    def cancel_folder(self, folder: str) -> None:
        """Cancel the queued and running jobs about `folder` (thread-safe)."""
        with self._lock:
            for job in self._jobs:
                if any(is_under(f, folder) or is_under(folder, f) for f in job.folders):
                    job.cancel.set()

    def stop(self) -> None:
        """End `run()` soon: the running job is cancelled at its next file boundary."""
        self._stop.set()
        self.cancel_all()

    def replace_engine(
        self, factory: EngineFactory, *, wipe: Path | None = None, reconcile: bool = False
    ) -> LoopJob:
        """New settings: close the engine's index, optionally delete the folder `wipe` (a
        rebuild), build a new engine and watch with its rules; `reconcile` every folder."""

        def run(ctl: JobControl) -> object:
            was_open = self.engine is not None and self._watcher is not None
            self._close_engine()
            if wipe is not None and wipe.exists():
                shutil.rmtree(wipe)
            self._factory = factory
            self._open_engine()
            self._restart_watcher()
            if reconcile or not was_open:
                for folder in self._active():
                    self.sync(folder)
            return self._engine().kb.status()

        return self.submit(LoopJob(run, "Applying the new settings"))

    def call(self, fn: Callable[[SyncEngine], object], **kw) -> LoopJob:
        """Run `fn(engine)` on the loop's thread (a status read, a removal ...)."""
        return self.submit(LoopJob(lambda ctl: fn(self._engine()), **kw))

    # -- the loop: its own thread -----------------------------------------------------

    def run(
        self,
        stop: threading.Event | None = None,
        *,
        pause: PauseGate | None = None,
        ready: threading.Event | None = None,
    ) -> None:
        """Block until `stop()` (or `stop` is set). `ready` is set after the first reconcile."""
        if stop is not None:
            threading.Thread(target=self._stop_when, args=(stop,), daemon=True).start()
        self._pause = pause
        try:
            try:
                if self.engine is None:
                    self._open_engine()
                self._restart_watcher()
                # Watch before reconciling: a change made during the first scan is not lost.
                for folder in self._active():
                    self.sync(folder)
                # An index made before vector indexes existed gets one without waiting for
                # a change (in the background: the reconciles above go on beside it).
                self._engine().kb.schedule_vector_index()
            except Exception:
                # E.g. an index built by another embedding model: the jobs that need the
                # engine report it; replace_engine() (new settings, a rebuild) starts over.
                log.warning("the sync engine could not be opened", exc_info=True)
                self._close_engine()
            self._running = True
            if ready is not None:
                self.submit(LoopJob(lambda ctl: ready.set()))
            self._loop()
        finally:
            self._running = False
            self._stop.set()  # a stop Event set later must not wait on a dead loop
            if self._watcher is not None:
                self._watcher.stop()
                self._watcher = None
            if self.engine is not None:
                self.engine.on_unavailable = lambda folder: None

    def close(self) -> None:
        """Close the engine's index (after `run()` returned, or when it never ran)."""
        self._close_engine()

    def _stop_when(self, stop: threading.Event) -> None:
        while not stop.wait(0.2):
            if self._stop.is_set():
                return
        self.stop()

    def _loop(self) -> None:
        t = self.timing
        now = time.monotonic()
        due = {"availability": now + t.availability_s, "poll": now + t.poll_s}
        if t.rescan_s > 0:
            due["rescan"] = now + t.rescan_s
        while not self._stop.is_set():
            wait = max(0.0, min(min(due.values()) - time.monotonic(), 0.5))
            try:
                job = self._queue.get(timeout=wait)
            except queue.Empty:
                job = None
            if job is not None:
                self._run_job(job)
                if self._queue.empty():
                    self.listener.busy("")
            now = time.monotonic()
            if self._stop.is_set():
                break
            if self.engine is None or self._watcher is None:
                continue  # not opened (yet): nothing to probe or rescan
            if now >= due["availability"]:
                self._run_job(LoopJob(self._check_folders))
                due["availability"] = now + t.availability_s
            if now >= due["poll"]:
                polled = sorted(self._watcher.polled if self._watcher else ())
                for folder in polled:
                    self.sync(folder)
                due["poll"] = now + t.poll_s
            if "rescan" in due and now >= due["rescan"]:
                for folder in self._active():
                    self.sync(folder)
                due["rescan"] = now + t.rescan_s
        while True:  # what never ran: its owner still hears that it ended
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            job.cancel.set()
            self._finish(job)

    def _run_job(self, job: LoopJob) -> None:
        if job.title:
            self.listener.busy(job.title)
        ctl = JobControl(job.cancel, self._pause, self.listener)
        try:
            result = job.run(ctl)
        except Exception as exc:  # one failing job is reported; the watch goes on
            log.warning("sync job %r failed", job.title or job.run, exc_info=True)
            self._finish(job)
            for folder in job.folders or ("",):
                self.listener.failed(folder, _message(exc))
            if job.on_error is not None:
                job.on_error(exc)
            return
        self._finish(job)
        if job.on_done is not None:
            job.on_done(result)

    def _finish(self, job: LoopJob) -> None:
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    # -- the work ---------------------------------------------------------------------

    def _engine(self) -> SyncEngine:
        """The engine, opened now if it could not be before (then watching starts too)."""
        if self.engine is None:
            self._open_engine()
            if self._running:
                self._restart_watcher()
                for folder in self._active():
                    self.sync(folder)
        assert self.engine is not None
        return self.engine

    def _open_engine(self) -> None:
        self.engine = self._factory()

    def _close_engine(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.kb.close()

    def _restart_watcher(self) -> None:
        """A watcher with the engine's rules (each folder's handler keeps the rules it began
        with, so new skip patterns need a new watcher)."""
        if self._watcher is not None:
            self._watcher.stop()
        engine = self.engine
        assert engine is not None
        watcher = FolderWatcher(
            self._on_batch,
            engine.rules,
            quiet_s=self.timing.quiet_s,
            max_delay_s=self.timing.max_delay_s,
            on_fallback=self._on_fallback,
            observer_factory=self._observer_factory,
        )
        self._watcher = watcher
        engine.on_unavailable = watcher.unwatch
        watcher.start()
        self._sync_watches()

    def _on_batch(self, batch: ChangeBatch) -> None:
        """On the debouncer's thread: queue the batch as a job."""
        roots = self._roots_of(batch)
        names = ", ".join(_name(r) for r in roots) or "folders"

        def run(ctl: JobControl) -> None:
            engine = self._engine()
            job = ctl.job(roots[0] if roots else "")
            report = engine.apply_batch(batch, **job)
            for root in roots:
                self._report(root, report.index, cancelled=report.cancelled)

        self.submit(LoopJob(run, f"Updating {names}", tuple(roots)))

    def _roots_of(self, batch: ChangeBatch) -> list[str]:
        paths = [*batch.paths, *batch.dirs, *batch.gone]
        paths += [p for m in batch.moves for p in (m.old, m.new)]
        watched = self._watcher.watched() | self._watcher.polled if self._watcher else set()
        return active_roots(paths, watched)

    def _reconcile(self, folder: str, ctl: JobControl, *, retry_failed: bool = False) -> None:
        engine = self._engine()
        watched = engine.folders.get(folder)
        if watched is None:
            return  # removed meanwhile
        if watched.paused:
            self.listener.synced(self._summary(watched.path, None))
            return
        report = engine.reconcile(watched.path, retry_failed=retry_failed, **ctl.job(folder))
        if not report.available:
            self.listener.synced(FolderSummary(watched.path, 0, 0, available=False))
            return
        self._report(watched.path, report.index, cancelled=report.cancelled)

    def _report(self, folder: str, index: IndexReport | None, *, cancelled: bool) -> None:
        saved = self._engine().folders.get(folder)
        if saved is None:
            return  # removed meanwhile
        if not saved.available:  # it vanished while the job ran (the batch saw it go)
            self.listener.synced(FolderSummary(folder, 0, 0, available=False))
            return
        self.listener.synced(self._summary(folder, index, cancelled))

    def _summary(
        self, folder: str, index: IndexReport | None, cancelled: bool = False
    ) -> FolderSummary:
        records = self._engine().kb.file_records(Path(folder))
        errors = sum(1 for r in records if r.status == "error")
        return FolderSummary(folder, len(records) - errors, errors, True, cancelled, index)

    def _check_folders(self, ctl: JobControl) -> None:
        engine = self._engine()
        for folder in engine.check_availability():
            if self._watcher is not None:
                self._watcher.unwatch(folder.path)  # its old watch died with the mount
        for path in self._sync_watches():
            self.sync(path)

    def _active(self) -> list[str]:
        engine = self.engine
        return [] if engine is None else sorted(f.path for f in engine.folders.list() if f.active)

    def _sync_watches(self) -> list[str]:
        """Watch exactly the active folders; returns those newly watched."""
        if self._watcher is None:
            return []
        active = set(self._active())
        current = self._watcher.watched() | self._watcher.polled
        for path in sorted(current - active):
            self._watcher.unwatch(path)
        added = []
        for path in sorted(active - current):
            try:
                self._watcher.watch(path)
            except OSError as exc:  # vanished between the listing and the watch
                log.info("cannot watch %s: %s", path, exc)
                continue
            added.append(path)
        return added

    def _on_fallback(self, folder: str, reason: str) -> None:
        if self.engine is not None:
            self.engine.emit("polling", folder, reason)


def _name(folder: str) -> str:
    return os.path.basename(folder.rstrip(os.sep)) or folder


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, UserFacingError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def active_roots(paths: Iterable[str], roots: Iterable[str]) -> list[str]:
    """The roots that contain any of `paths` (pure)."""
    paths = list(paths)
    return sorted({r for r in roots if any(is_under(p, r) for p in paths)})
