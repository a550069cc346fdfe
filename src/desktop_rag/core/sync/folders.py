"""Watched folders, saved in SQLite (`AppPaths.state_db`) so they survive restarts and kills.

Every call opens its own short connection, so any thread may use a `FolderStore`; SQLite
serialises the writes. Folders never nest: adding a folder inside a watched one is refused
as already covered, adding a parent absorbs the watched folders below it (their chunks
already sit under the parent, so nothing is re-indexed).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.path_keys import from_storage, to_storage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watched_folders (
    path TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    available INTEGER NOT NULL DEFAULT 1,
    added_at REAL NOT NULL,
    last_reconciled REAL,
    device INTEGER
)
"""


class FolderError(UserFacingError):
    """A folder cannot be added, removed, paused or resumed as asked."""


@dataclass(frozen=True)
class WatchedFolder:
    path: str
    paused: bool = False
    available: bool = True
    added_at: float = 0.0
    last_reconciled: float | None = None
    device: int | None = None  # st_dev of the folder when last seen (detects unmounts)

    @property
    def active(self) -> bool:
        """Watched and reconciled now: neither paused by the user nor missing from disk."""
        return self.available and not self.paused


@dataclass(frozen=True)
class Overlap:
    covered_by: str | None = None  # a watched folder that already contains the new one
    absorbs: tuple[str, ...] = ()  # watched folders inside the new one


@dataclass(frozen=True)
class AddResult:
    folder: WatchedFolder | None  # None when the folder was already covered
    covered_by: str | None = None
    absorbed: tuple[str, ...] = ()
    already_watched: bool = False


def normalize(path: str | os.PathLike[str]) -> str:
    """The one spelling of a folder: absolute, user expanded, symlinks resolved."""
    return str(Path(path).expanduser().resolve())


def is_under(path: str, folder: str) -> bool:
    """True when `path` is `folder` or lies inside it (string test on normalised paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def classify_overlap(new: str, existing: Iterable[str]) -> Overlap:
    """How a folder about to be added relates to those already watched. Pure."""
    existing = list(existing)
    for folder in existing:
        if is_under(new, folder):
            return Overlap(covered_by=folder)
    return Overlap(absorbs=tuple(sorted(f for f in existing if is_under(f, new))))


def probe(folder: WatchedFolder) -> tuple[bool, int | None]:
    """(available, device). An unmounted drive often leaves its mount point behind as an
    empty folder on another file system: that counts as unavailable, never as emptied."""
    try:
        st = os.stat(folder.path)
        if not stat.S_ISDIR(st.st_mode):
            return False, None
        if folder.device is not None and st.st_dev != folder.device:
            with os.scandir(folder.path) as it:
                if next(it, None) is None:
                    return False, st.st_dev
        os.scandir(folder.path).close()  # listable, not just present
    except OSError:
        return False, None
    return True, st.st_dev


def _row(row: sqlite3.Row) -> WatchedFolder:
    return WatchedFolder(
        path=from_storage(row["path"]),
        paused=bool(row["paused"]),
        available=bool(row["available"]),
        added_at=row["added_at"],
        last_reconciled=row["last_reconciled"],
        device=row["device"],
    )


class FolderStore:
    def __init__(self, db_path: Path):
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn
        finally:
            conn.close()

    def list(self) -> list[WatchedFolder]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM watched_folders ORDER BY path").fetchall()
        return [_row(r) for r in rows]

    def get(self, path: str | os.PathLike[str]) -> WatchedFolder | None:
        """The saved folder; its saved spelling is looked up first, so a folder on a hung
        network mount is found without touching the file system (`normalize` resolves)."""
        with self._connect() as conn:
            query = "SELECT * FROM watched_folders WHERE path = ?"
            row = conn.execute(query, (to_storage(os.fspath(path)),)).fetchone()
            if row is None:
                row = conn.execute(query, (to_storage(normalize(path)),)).fetchone()
        return _row(row) if row else None

    def covering(self, path: str | os.PathLike[str]) -> WatchedFolder | None:
        """The watched folder a path belongs to, if any."""
        target = normalize(path)
        return next((f for f in self.list() if is_under(target, f.path)), None)

    def add(self, path: str | os.PathLike[str]) -> AddResult:
        folder = normalize(path)
        if not Path(folder).is_dir():
            raise FolderError("is not a folder that exists", path=folder, hint="check the path")
        with self._connect() as conn:
            rows = conn.execute("SELECT path FROM watched_folders")
            existing = [from_storage(r["path"]) for r in rows]
            if folder in existing:
                row = conn.execute(
                    "SELECT * FROM watched_folders WHERE path = ?", (to_storage(folder),)
                )
                return AddResult(folder=_row(row.fetchone()), already_watched=True)
            overlap = classify_overlap(folder, existing)
            if overlap.covered_by:
                return AddResult(folder=None, covered_by=overlap.covered_by)
            conn.executemany(
                "DELETE FROM watched_folders WHERE path = ?",
                [(to_storage(p),) for p in overlap.absorbs],
            )
            now, device = time.time(), os.stat(folder).st_dev
            conn.execute(
                "INSERT INTO watched_folders (path, added_at, device) VALUES (?, ?, ?)",
                (to_storage(folder), now, device),
            )
        added = WatchedFolder(folder, added_at=now, device=device)
        return AddResult(folder=added, absorbed=overlap.absorbs)

    def remove(self, path: str | os.PathLike[str]) -> WatchedFolder:
        folder = self._require(path)
        with self._connect() as conn:
            conn.execute("DELETE FROM watched_folders WHERE path = ?", (to_storage(folder.path),))
        return folder

    def set_paused(self, path: str | os.PathLike[str], paused: bool) -> WatchedFolder:
        return self._update(path, "paused", int(paused))

    def set_available(self, path: str | os.PathLike[str], available: bool) -> WatchedFolder:
        return self._update(path, "available", int(available))

    def mark_reconciled(self, path: str | os.PathLike[str], when: float | None = None) -> None:
        self._update(path, "last_reconciled", time.time() if when is None else when)

    def set_device(self, path: str | os.PathLike[str], device: int) -> WatchedFolder:
        return self._update(path, "device", device)

    def _require(self, path: str | os.PathLike[str]) -> WatchedFolder:
        folder = self.get(path)
        if folder is None:
            hint = "see `desktop-rag folders list`"
            raise FolderError("is not a watched folder", path=normalize(path), hint=hint)
        return folder

    def _update(self, path: str | os.PathLike[str], column: str, value: object) -> WatchedFolder:
        folder = self._require(path)
        with self._connect() as conn:
            # `column` comes from this module only, never from the caller's input.
            sql = f"UPDATE watched_folders SET {column} = ? WHERE path = ?"
            conn.execute(sql, (value, to_storage(folder.path)))
        updated = self.get(folder.path)
        assert updated is not None
        return updated
