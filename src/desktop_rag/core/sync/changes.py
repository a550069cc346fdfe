"""File-system events folded into one batch of work. Pure: events in, a `ChangeBatch` out.

One save fires several events and editors save through a temp file and a rename, so events
are not acted on one by one. A batch keeps only what matters:
- `moves`: renames whose source the index may know (applied first, without re-embedding);
  chains collapse (a -> b -> c is a -> c) and the per-file moves watchdog reports inside a
  moved folder are dropped, the folder move covers them;
- `paths`/`dirs` (last event: it exists) and `gone` (last event: it was removed), checked
  on disk when the batch is applied. A path that should exist but is missing then was
  changed again since, and that later change comes with its own event: it is left to that
  event (so a file renamed twice in a row is moved twice, never deleted and re-embedded).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

CHANGED, DELETED, MOVED = "changed", "deleted", "moved"


@dataclass(frozen=True)
class FsEvent:
    kind: str  # CHANGED | DELETED | MOVED
    path: str
    dest: str | None = None  # MOVED only
    is_dir: bool = False


@dataclass(frozen=True)
class PathMove:
    old: str
    new: str
    is_dir: bool = False


@dataclass(frozen=True)
class ChangeBatch:
    moves: tuple[PathMove, ...] = ()
    paths: tuple[str, ...] = ()  # files whose last event says they exist: check on disk
    dirs: tuple[str, ...] = ()  # folders that appeared: walk them
    gone: tuple[str, ...] = ()  # files or folders whose last event removed them
    events: int = 0  # raw events folded into this batch

    def __bool__(self) -> bool:
        return bool(self.moves or self.paths or self.dirs or self.gone)


def _rebase(path: str, old: str, new: str) -> str | None:
    """`path` moved along with folder `old` -> `new`, or None when it is not inside it."""
    if path == old:
        return new
    prefix = old.rstrip(os.sep) + os.sep
    if path.startswith(prefix):
        return new.rstrip(os.sep) + os.sep + path[len(prefix) :]
    return None


def coalesce(events: Iterable[FsEvent]) -> ChangeBatch:
    moves: list[PathMove] = []
    state: dict[str, tuple[bool, bool]] = {}  # path -> (exists after its last event, is_dir)
    count = 0
    for event in events:
        count += 1
        if event.kind != MOVED or event.dest is None:
            state[event.path] = (event.kind == CHANGED, event.is_dir)
            continue
        src, dst = event.path, event.dest
        if any(m.is_dir and _rebase(src, m.old, m.new) == dst for m in moves):
            continue  # watchdog's per-file echo of a folder move already recorded
        # Pending work on the source follows it to its new place.
        for path in list(state):
            rebased = _rebase(path, src, dst) if event.is_dir or path == src else None
            if rebased is not None:
                state[rebased] = state.pop(path)
        chained = next((i for i, m in enumerate(moves) if m.new == src), None)
        if chained is not None:
            first = moves.pop(chained)
            if first.old != dst:  # a -> b -> a is no move at all
                moves.append(PathMove(first.old, dst, event.is_dir))
        else:
            moves.append(PathMove(src, dst, event.is_dir))
        if not event.is_dir:
            # Renaming over an existing file, or swaps through a temporary name, can leave the
            # moved record describing other content; the indexer's hash check settles it cheaply.
            state[dst] = (True, False)
    return ChangeBatch(
        moves=tuple(moves),
        paths=tuple(sorted(p for p, (exists, is_dir) in state.items() if exists and not is_dir)),
        dirs=tuple(sorted(p for p, (exists, is_dir) in state.items() if exists and is_dir)),
        gone=tuple(sorted(p for p, (exists, _) in state.items() if not exists)),
        events=count,
    )
