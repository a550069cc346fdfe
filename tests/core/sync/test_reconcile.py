from __future__ import annotations

import hashlib
import os
from pathlib import Path

from desktop_rag.core.ingest.ignore import IgnoreRules
from desktop_rag.core.ingest.walk import scan_folder
from desktop_rag.core.records import FileRecord
from desktop_rag.core.sync.plan import Move
from desktop_rag.core.sync.reconcile import plan_folder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class CountingHasher:
    def __init__(self) -> None:
        self.read: list[str] = []

    def __call__(self, path: str) -> str:
        self.read.append(path)
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record_of(path: Path, status: str = "indexed") -> FileRecord:
    st = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return FileRecord(str(path), st.st_size, st.st_mtime_ns, digest, status)


def test_no_change_rescan_reads_nothing(tmp_path: Path) -> None:
    files = [write(tmp_path / f"d{i % 3}/f{i}.txt", f"file {i}") for i in range(30)]
    records = {str(p): record_of(p) for p in files}
    hasher = CountingHasher()
    plan, read = plan_folder(scan_folder(str(tmp_path), IgnoreRules()), records, hasher)
    assert plan.is_empty and len(plan.unchanged) == 30
    assert read == 0 and hasher.read == []


def test_changes_while_closed_are_found(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "alpha")
    b = write(tmp_path / "b.txt", "bravo")
    c = write(tmp_path / "sub/c.txt", "charlie")
    d = write(tmp_path / "d.txt", "delta")
    records = {str(p): record_of(p) for p in (a, b, c, d)}
    os.utime(a, ns=(1, 1))  # touched: stat differs, content not
    b.write_text("bravo, edited")
    (tmp_path / "moved").mkdir()
    os.rename(c, tmp_path / "moved/c.txt")
    d.unlink()
    new = write(tmp_path / "e.txt", "echo!")
    hasher = CountingHasher()
    plan, _ = plan_folder(scan_folder(str(tmp_path), IgnoreRules()), records, hasher)
    assert plan.refresh == (str(a),)
    assert plan.reembed == (str(b),)
    assert plan.moves == (Move(str(c), str(tmp_path / "moved/c.txt")),)
    assert plan.delete == (str(d),)
    assert plan.add == (str(new),)
    # Read: the touched and edited files, and new files sized like a vanished record.
    assert set(hasher.read) == {str(a), str(b), str(tmp_path / "moved/c.txt"), str(new)}
