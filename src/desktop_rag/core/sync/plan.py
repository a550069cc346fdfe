"""What to do to bring the index in line with a folder on disk. Pure: snapshots in, a plan out.

Two steps, so that reconciling reads as little as possible:
1. `paths_to_hash(disk, records)`: stat settles most files (same size and mtime_ns as the
   record means unchanged, nothing read). Only files whose stat changed, and new files that
   could be the far end of a move (a vanished record has the same size), need a content hash.
2. `plan_sync(disk, records)`: with those hashes filled in, sort every path into add,
   re-embed, move, refresh (stat changed, content did not: no embedding), delete, unchanged.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from desktop_rag.core.records import DiskFile, FileRecord


@dataclass(frozen=True)
class Move:
    old: str
    new: str


@dataclass(frozen=True)
class SyncPlan:
    add: tuple[str, ...] = ()  # new on disk: extract and embed
    reembed: tuple[str, ...] = ()  # content changed (or unfinished): re-index, reusing vectors
    moves: tuple[Move, ...] = ()  # same content under a new path: rename, no embedding
    refresh: tuple[str, ...] = ()  # stat changed, content not: update the record only
    delete: tuple[str, ...] = ()  # gone from disk: drop chunks and record
    unchanged: tuple[str, ...] = ()
    # Moves collapsed to whole folders (every record under `old` went to `new`).
    folder_moves: tuple[Move, ...] = field(default=())

    @property
    def to_index(self) -> tuple[str, ...]:
        """Paths the indexer must look at (it skips those whose hash proves unchanged)."""
        return self.add + self.reembed + self.refresh

    @property
    def is_empty(self) -> bool:
        return not (self.add or self.reembed or self.moves or self.refresh or self.delete)

    def summary(self) -> str:
        return (
            f"{len(self.add)} new, {len(self.reembed)} changed, {len(self.moves)} moved, "
            f"{len(self.delete)} deleted, {len(self.refresh) + len(self.unchanged)} unchanged"
        )


def _stat_matches(file: DiskFile, record: FileRecord) -> bool:
    return file.size == record.size and file.mtime_ns == record.mtime_ns


def paths_to_hash(disk: Mapping[str, DiskFile], records: Mapping[str, FileRecord]) -> set[str]:
    """Files whose fate stat alone cannot decide."""
    missing_sizes = {r.size for p, r in records.items() if p not in disk and r.content_hash}
    wanted = set()
    for path, file in disk.items():
        record = records.get(path)
        if record is None:
            if file.size in missing_sizes:
                wanted.add(path)
        elif record.status != "pending" and not _stat_matches(file, record):
            wanted.add(path)
    return wanted


def plan_sync(
    disk: Mapping[str, DiskFile], records: Mapping[str, FileRecord], *, retry_failed: bool = False
) -> SyncPlan:
    """Compare a snapshot of files on disk with the index's records for the same folder.

    A file that failed waits for its next change, unless `retry_failed` (a person asked:
    the lock may be gone, the permission fixed, the machine less busy).
    """
    add, reembed, refresh, unchanged = [], [], [], []
    for path in sorted(disk):
        file, record = disk[path], records.get(path)
        if record is None:
            add.append(path)
        elif record.status == "pending":
            reembed.append(path)  # an interrupted job: its chunks cannot be trusted
        elif (record.status == "error" or record.error) and retry_failed:  # failed or partial
            reembed.append(path)
        elif _stat_matches(file, record):
            unchanged.append(path)
        elif file.content_hash is not None and file.content_hash == record.content_hash:
            refresh.append(path)
        else:
            reembed.append(path)

    gone = sorted(p for p in records if p not in disk)
    moves, matched_new, matched_old = _pair_moves(gone, add, disk, records)
    add = [p for p in add if p not in matched_new]
    delete = [p for p in gone if p not in matched_old]
    file_moves, folder_moves = collapse_moves(moves, records)
    return SyncPlan(
        add=tuple(add),
        reembed=tuple(reembed),
        moves=tuple(file_moves),
        refresh=tuple(refresh),
        delete=tuple(delete),
        unchanged=tuple(unchanged),
        folder_moves=tuple(folder_moves),
    )


def _pair_moves(
    gone: list[str],
    new: list[str],
    disk: Mapping[str, DiskFile],
    records: Mapping[str, FileRecord],
) -> tuple[list[Move], set[str], set[str]]:
    """A vanished record and a new file with the same content hash are one file that moved."""
    by_hash: dict[str, list[str]] = defaultdict(list)
    for path in gone:
        record = records[path]
        if record.content_hash and record.status == "indexed":
            by_hash[record.content_hash].append(path)
    moves, matched_new, matched_old = [], set(), set()
    for path in new:
        digest = disk[path].content_hash
        candidates = by_hash.get(digest or "")
        if not candidates:
            continue
        # Prefer the vanished file with the same name (a move between folders).
        name = path.rsplit("/", 1)[-1]
        old = next((c for c in candidates if c.rsplit("/", 1)[-1] == name), candidates[0])
        candidates.remove(old)
        moves.append(Move(old, path))
        matched_new.add(path)
        matched_old.add(old)
    return moves, matched_new, matched_old


def _split_common_tail(old: str, new: str) -> tuple[str, str] | None:
    """('/a/x', '/b/x') for '/a/x/f.txt' -> '/b/x/f.txt': the folders that differ."""
    old_dir, new_dir = os.path.dirname(old), os.path.dirname(new)
    if os.path.basename(old) != os.path.basename(new):
        return None
    while os.path.basename(old_dir) and os.path.basename(old_dir) == os.path.basename(new_dir):
        old_dir, new_dir = os.path.dirname(old_dir), os.path.dirname(new_dir)
    return old_dir, new_dir


def _deepest_common_dir(paths: list[str]) -> str:
    return os.path.commonpath([os.path.dirname(p) for p in paths])


def collapse_moves(
    moves: Iterable[Move], records: Mapping[str, FileRecord]
) -> tuple[list[Move], list[Move]]:
    """Group file moves that are really one folder move, so the store renames by prefix.

    A group qualifies when every record under the moved folder went along, keeping its
    place relative to the folder.
    """
    groups: dict[tuple[str, str], list[Move]] = defaultdict(list)
    loose: list[Move] = []
    for move in moves:
        dirs = _split_common_tail(move.old, move.new)
        if dirs is None or dirs[0] == dirs[1]:
            loose.append(move)
        else:
            groups[dirs].append(move)
    folder_moves = []
    for (old_dir, new_dir), group in sorted(groups.items()):
        olds = [m.old for m in group]
        old_root = _deepest_common_dir(olds)
        new_root = new_dir + old_root[len(old_dir) :]
        prefix = old_root + os.sep
        under = {p for p in records if p.startswith(prefix)}
        if len(group) > 1 and under == set(olds):
            folder_moves.append(Move(old_root, new_root))
        else:
            loose.extend(group)
    return sorted(loose, key=lambda m: m.old), folder_moves


def collapse_deletes(
    deleted: Iterable[str], records: Mapping[str, FileRecord], roots: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(files, folders): deletions grouped into the highest folders (inside a root) whose
    every record is deleted, so a removed folder costs one store operation, not thousands.
    `records` must hold every record under the roots."""
    gone = set(deleted)
    roots = [r.rstrip(os.sep) for r in roots]
    total: dict[str, int] = defaultdict(int)
    dead: dict[str, int] = defaultdict(int)
    for path in records:
        root = next((r for r in roots if path.startswith(r + os.sep)), None)
        if root is None:
            continue
        folder = os.path.dirname(path)
        while len(folder) >= len(root):
            total[folder] += 1
            dead[folder] += path in gone
            folder = os.path.dirname(folder)
    emptied = {d for d, n in dead.items() if n and n == total[d]}
    folders = sorted(d for d in emptied if os.path.dirname(d) not in emptied or d in roots)
    files = sorted(p for p in gone if not any(p.startswith(f + os.sep) for f in folders))
    return files, folders


def with_hashes(disk: Mapping[str, DiskFile], hashes: Mapping[str, str]) -> dict[str, DiskFile]:
    """The snapshot with the computed hashes filled in (files that vanished are dropped)."""
    out = {}
    for path, file in disk.items():
        if path in hashes:
            out[path] = replace(file, content_hash=hashes[path])
        else:
            out[path] = file
    return out
