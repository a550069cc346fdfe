"""Keep the index in line with the watched folders. Qt-free; one worker thread at a time.

`SyncEngine` turns plans (from reconciling a folder) and change batches (from the watcher)
into `KnowledgeBase` calls, in an order that never re-embeds what only moved: moves first,
then deletions, then indexing (the indexer itself skips unchanged content and reuses the
vectors of unchanged chunks). Everything it does is reported as `SyncEvent`s through
`on_event`: the CLI prints them, the UI shows them.

`watch()` is the long-running loop; `folders`, `SyncEngine.add_folder` and friends are the
one-shot jobs. Jobs take a `cancel` Event, a `progress` callback and a `PauseGate`, checked
between files.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop_rag.core.index import consistency
from desktop_rag.core.ingest.ignore import IgnoreRules
from desktop_rag.core.ingest.indexer import hash_file
from desktop_rag.core.ingest.walk import LOOP_REASON, default_supported, scan_folder
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.path_keys import display_path
from desktop_rag.core.records import DiskFile, FileRecord, IndexReport, Progress
from desktop_rag.core.sync.changes import ChangeBatch
from desktop_rag.core.sync.folders import (
    FolderError,
    FolderStore,
    WatchedFolder,
    is_under,
    probe,
)
from desktop_rag.core.sync.plan import (
    SyncPlan,
    collapse_deletes,
    paths_to_hash,
    plan_sync,
    with_hashes,
)
from desktop_rag.core.sync.reconcile import hash_files, plan_folder

ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class SyncEvent:
    """One thing sync did or noticed: `indexed`, `removed`, `moved`, `error`, `unavailable`,
    `available`, `polling`, `repaired`, `reconciled`."""

    action: str
    path: str
    detail: str = ""

    def line(self) -> str:
        path = display_path(self.path)
        return f"{self.action:<11} {path}" + (f"  ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class SyncReport:
    folder: str | None
    plan: SyncPlan = field(default_factory=SyncPlan)
    index: IndexReport = field(default_factory=IndexReport)
    hashed: int = 0  # files read to settle what stat could not
    seconds: float = 0.0
    available: bool = True
    cancelled: bool = False


class PauseGate:
    """Set from any thread; a job waits at the next file boundary while paused."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait(self, cancel: threading.Event | None = None) -> None:
        while not self._running.wait(0.2):
            if cancel is not None and cancel.is_set():
                return


@dataclass
class _Job:
    progress: ProgressFn | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    pause: PauseGate | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def report(self, p: Progress) -> None:
        # The indexer calls this between files and batches: the natural place to hold still.
        if self.pause is not None:
            self.pause.wait(self.cancel)
        if self.progress is not None:
            self.progress(p)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()


class SyncEngine:
    def __init__(
        self,
        kb: KnowledgeBase,
        folders: FolderStore,
        *,
        rules: IgnoreRules | None = None,
        on_event: Callable[[SyncEvent], None] | None = None,
        hasher: Callable[[str], str] = hash_file,
        supported: Callable[[str], bool] = default_supported,
    ):
        self.kb = kb
        self.folders = folders
        self.rules = rules or IgnoreRules.from_patterns(kb.settings.ignore_patterns)
        self._on_event = on_event or (lambda event: None)
        self._hasher = hasher
        self._supported = supported
        self._lock = threading.RLock()  # one job at a time, whichever thread asks
        self._checked = False
        self.on_unavailable: Callable[[str], None] = lambda folder: None  # set by the watch loop

    @classmethod
    def open(cls, data_dir: str | Path | None = None, *, kb: KnowledgeBase | None = None, **kw):
        kb = kb or KnowledgeBase.open(data_dir)
        return cls(kb, FolderStore(kb.paths.state_db), **kw)

    def emit(self, action: str, path: str, detail: str = "") -> None:
        self._on_event(SyncEvent(action, path, detail))

    # -- folders ----------------------------------------------------------------------

    def add_folder(self, path: str | Path, *, index: bool = True, **job) -> SyncReport | None:
        """Watch a folder (and index it now unless `index=False`). None when already covered."""
        result = self.folders.add(path)
        if result.covered_by:
            self.emit("covered", str(path), f"already inside watched folder {result.covered_by}")
            return None
        folder = result.folder
        assert folder is not None  # None only when covered
        for absorbed in result.absorbed:
            self.emit("absorbed", absorbed, f"now part of {folder.path}")
        if not index:
            return SyncReport(folder=folder.path)
        return self.reconcile(folder.path, **job)

    def remove_folder(self, path: str | Path) -> int:
        """Stop watching a folder and forget its chunks; returns the number removed."""
        with self._lock:
            folder = self.folders.remove(path)
            removed = self.kb.remove([Path(folder.path)])
            self.emit("removed", folder.path, f"{removed} chunks")
            return removed

    @contextlib.contextmanager
    def _job(
        self, progress: ProgressFn | None, cancel: threading.Event | None, pause: PauseGate | None
    ) -> Iterator[_Job]:
        """One job at a time, on an index repaired once since this engine opened it."""
        with self._lock:
            if not self._checked:
                self.check_index()
            yield _Job(progress, cancel or threading.Event(), pause)

    def check_index(self) -> consistency.ConsistencyReport:
        """Repair what a kill may have left (once per engine; reconciling re-queues files)."""
        with self._lock:
            report = consistency.check_index(self.kb.store)
            self._checked = True
            if not report.clean:
                detail = f"{report.stale_chunks_removed} stale chunks removed"
                self.emit("repaired", str(self.kb.paths.index_dir), detail)
                for path in report.requeued:
                    self.emit("requeued", path, "its chunks were incomplete")
            return report

    def check_availability(self) -> list[WatchedFolder]:
        """Mark folders that vanished (unmounted drive) or came back; returns those back."""
        return [f for f in self.folders.list() if not f.paused and self._probe(f) == "back"]

    def _usable(self, folder: WatchedFolder) -> bool:
        return self._probe(folder) in {"back", "available"}

    def _probe(self, folder: WatchedFolder) -> str:
        """'available', 'back', 'unavailable' or 'gone' (just vanished); state is saved."""
        available, device = probe(folder)
        if available and device is not None and device != folder.device:
            self.folders.set_device(folder.path, device)
        if available == folder.available:
            return "available" if available else "unavailable"
        self.folders.set_available(folder.path, available)
        if available:
            self.emit("available", folder.path, "back: reconciling")
            return "back"
        self.emit("unavailable", folder.path, "missing: its index is kept")
        self.on_unavailable(folder.path)
        return "gone"

    # -- reconciling ------------------------------------------------------------------

    def reconcile(
        self,
        folder: str | Path,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        pause: PauseGate | None = None,
        retry_failed: bool = False,
    ) -> SyncReport:
        """Bring one folder's index in line with the disk: stat first, hash only if needed.

        `retry_failed`: read again the files that could not be indexed, changed or not.
        """
        with self._job(progress, cancel, pause) as job:
            watched = self.folders.get(folder)
            if watched is None:
                raise FolderError("is not a watched folder", path=str(folder))
            if not self._usable(watched):
                return SyncReport(folder=watched.path, available=False)
            job.report(Progress(0, 0, watched.path, "scanning"))
            scan = scan_folder(
                watched.path, self.rules, supported=self._supported, cancel=job.cancel
            )
            if job.cancelled:  # a partial scan would read as mass deletion
                return SyncReport(folder=watched.path, cancelled=True)
            for loop in scan.loops:
                self.emit("skipped", loop, LOOP_REASON)
            records = self._records(watched.path)
            plan, hashed = plan_folder(scan, records, self._hasher, retry_failed=retry_failed)
            index = self._apply(plan, records, [watched.path], job)
            if not index.cancelled:
                self.folders.mark_reconciled(watched.path)
            self.emit("reconciled", watched.path, plan.summary())
            return SyncReport(
                folder=watched.path,
                plan=plan,
                index=index,
                hashed=hashed,
                seconds=job.seconds,
                cancelled=index.cancelled,
            )

    def _records(self, under: str) -> dict[str, FileRecord]:
        return {r.path: r for r in self.kb.file_records(Path(under))}

    # -- applying ---------------------------------------------------------------------

    def _apply(
        self, plan: SyncPlan, records: dict[str, FileRecord], roots: list[str], job: _Job
    ) -> IndexReport:
        """`records`: every record under `roots` (the folders the plan is about)."""
        moved = 0
        for move in (*plan.folder_moves, *plan.moves):
            if job.cancelled:
                break
            self._move(move.old, move.new, records)
            moved += 1
        removed = 0
        if plan.delete and not job.cancelled:
            job.report(Progress(0, len(plan.delete), plan.delete[0], "removing"))
            files, folders = collapse_deletes(plan.delete, records, roots)
            self.kb.remove([Path(p) for p in (*folders, *files)])
            for path in plan.delete:
                self.emit("removed", path)
            removed = len(plan.delete)
        report = IndexReport()
        if plan.to_index and not job.cancelled:
            targets = [Path(p) for p in plan.to_index]
            # The plan chose these files, failed ones included when a retry was asked for.
            report = self.kb.index(
                targets, progress=job.report, cancel=job.cancel, retry_failed=True
            )
            self._report_indexed(plan, report)
        return IndexReport(
            indexed=report.indexed,
            unchanged=report.unchanged + len(plan.unchanged),
            removed=removed,
            moved=moved,
            chunks_added=report.chunks_added,
            chunks_embedded=report.chunks_embedded,
            seconds=report.seconds,
            cancelled=report.cancelled or job.cancelled,
            skipped=report.skipped,
        )

    def _report_indexed(self, plan: SyncPlan, report: IndexReport) -> None:
        failed = {s.path: s.reason for s in report.skipped}
        for path, reason in failed.items():
            self.emit("error", path, reason)
        if report.cancelled:
            return
        for path in (*plan.add, *plan.reembed):
            if path not in failed:
                self.emit("indexed", path)

    def _move(self, old: str, new: str, records: dict[str, FileRecord]) -> None:
        """Rename in the index without re-embedding; what stood at `new` is replaced."""
        if new in records or any(is_under(p, new) for p in records):
            self.kb.remove([Path(new)])
        self.kb.move(Path(old), Path(new))
        self.emit("moved", old, f"to {new}")

    def apply_batch(
        self,
        batch: ChangeBatch,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        pause: PauseGate | None = None,
    ) -> SyncReport:
        """Apply what the watcher saw, after checking each path on disk as it is now."""
        with self._job(progress, cancel, pause) as job:
            active = [f for f in self.folders.list() if f.active]
            usable = {f.path for f in active if self._usable(f)}
            present = set(batch.paths) | set(batch.dirs)
            gone = set(batch.gone)
            moves = 0
            known: dict[str, dict[str, FileRecord]] = {}  # root -> its records, kept current
            for move in batch.moves:
                old_root, new_root = _root_of(move.old, usable), _root_of(move.new, usable)
                if old_root and new_root and not self._ignored(move.new, new_root):
                    for root in {old_root, new_root} - known.keys():
                        known[root] = self._records(root)
                    olds = [p for p in known[old_root] if is_under(p, move.old)]
                    if olds and (move.is_dir or move.old in olds):
                        self._move(move.old, move.new, known[new_root])
                        _rename_records(known, move.old, move.new)
                        moves += 1
                        continue
                # Not known under its old name (or moved in or out): a removal and an arrival.
                gone.add(move.old)
                present.add(move.new)
            plan = SyncPlan()
            records: dict[str, FileRecord] = {}
            roots = []
            for root in sorted(usable):
                mine = sorted(p for p in present if is_under(p, root))
                theirs_gone = sorted(p for p in gone if is_under(p, root))
                if mine or theirs_gone:
                    root_plan, root_records = self._plan_paths(root, mine, theirs_gone)
                    plan = _merge(plan, root_plan)
                    records.update(root_records)
                    roots.append(root)
            index = self._apply(plan, records, roots, job)
            return SyncReport(
                folder=None,
                plan=plan,
                index=IndexReport(**{**index.__dict__, "moved": index.moved + moves}),
                seconds=job.seconds,
                cancelled=index.cancelled,
            )

    def _ignored(self, path: str, root: str) -> bool:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        return rel != "." and self.rules.ignores(rel)

    def _plan_paths(
        self, root: str, present: list[str], gone: list[str] | set[str]
    ) -> tuple[SyncPlan, dict[str, FileRecord]]:
        """A plan for the paths of one folder that a batch touched, and all its records.

        `present` were last seen existing: if one is missing now, a later event will say
        where it went, so it is left alone. `gone` were last seen removed."""
        all_records = self._records(root)
        disk: dict[str, DiskFile] = {}
        records: dict[str, FileRecord] = {}
        gone = set(gone)
        for path in [*present, *sorted(gone)]:
            if path == root and not os.path.isdir(root):
                continue  # never read a vanished root as "everything deleted"
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if st is None:
                if path not in gone:
                    continue  # last seen present: its next event says where it went
                if path in all_records:  # a file that is gone
                    records[path] = all_records[path]
                else:  # a folder that is gone, with everything below it
                    records.update({p: r for p, r in all_records.items() if is_under(p, path)})
            elif stat.S_ISDIR(st.st_mode):
                if rel != "." and self.rules.ignores(rel, is_dir=True):
                    continue
                prefix = "" if rel == "." else rel
                scan = scan_folder(path, self.rules, supported=self._supported, rel_prefix=prefix)
                disk.update(scan.files)
                records.update({p: r for p, r in all_records.items() if is_under(p, path)})
            elif not self.rules.ignores(rel) and self._supported(path):
                disk[path] = DiskFile(path, st.st_size, st.st_mtime_ns)
                if path in all_records:
                    records[path] = all_records[path]
        records.update(_vanished_twins(disk, records, all_records))
        # Locked or vanishing files get no hash; the indexer reports them.
        hashes, _failed = hash_files(sorted(paths_to_hash(disk, records)), self._hasher)
        return plan_sync(with_hashes(disk, hashes), records), all_records


def _vanished_twins(
    disk: dict[str, DiskFile], records: dict[str, FileRecord], all_records: dict[str, FileRecord]
) -> dict[str, FileRecord]:
    """Records, outside this batch, of files that no longer exist and are as large as a new
    file of the batch: possibly the same file, moved. Watchdog reports a move into a folder
    created a moment earlier as a creation now and a deletion later; with these records in
    the plan, equal content hashes make it a move instead of a new embedding."""
    sizes = {f.size for p, f in disk.items() if p not in records}
    twins = {}
    for path, record in all_records.items():
        candidate = record.size in sizes and record.status == "indexed"
        if candidate and path not in records and path not in disk and not os.path.lexists(path):
            twins[path] = record
    return twins


def _root_of(path: str, roots: Iterable[str]) -> str | None:
    return next((r for r in roots if is_under(path, r)), None)


def _merge(a: SyncPlan, b: SyncPlan) -> SyncPlan:
    return SyncPlan(
        add=a.add + b.add,
        reembed=a.reembed + b.reembed,
        moves=a.moves + b.moves,
        refresh=a.refresh + b.refresh,
        delete=a.delete + b.delete,
        unchanged=a.unchanged + b.unchanged,
        folder_moves=a.folder_moves + b.folder_moves,
    )


def _rename_records(known: dict[str, dict[str, FileRecord]], old: str, new: str) -> None:
    """Mirror a move in the cached records, so later moves in the batch see it."""
    moving: dict[str, FileRecord] = {}
    for records in known.values():
        for path in [p for p in records if is_under(p, old)]:
            moving[path] = records.pop(path)
    for records in known.values():
        for path in [p for p in records if is_under(p, new)]:
            del records[path]
    root = _root_of(new, known)
    if root is not None:
        for path, record in moving.items():
            target = new + path[len(old) :]
            known[root][target] = replace(record, path=target)
