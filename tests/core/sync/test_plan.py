from __future__ import annotations

from desktop_rag.core.records import FileRecord
from desktop_rag.core.sync.plan import (
    DiskFile,
    Move,
    collapse_deletes,
    collapse_moves,
    paths_to_hash,
    plan_sync,
    with_hashes,
)


def rec(path: str, size: int = 10, mtime: int = 1, digest: str = "h", status: str = "indexed"):
    return FileRecord(path=path, size=size, mtime_ns=mtime, content_hash=digest, status=status)


def disk(path: str, size: int = 10, mtime: int = 1, digest: str | None = None) -> DiskFile:
    return DiskFile(path=path, size=size, mtime_ns=mtime, content_hash=digest)


def snapshot(*files: DiskFile) -> dict[str, DiskFile]:
    return {f.path: f for f in files}


def records(*recs: FileRecord) -> dict[str, FileRecord]:
    return {r.path: r for r in recs}


def test_same_stat_is_unchanged_without_hashing() -> None:
    d = snapshot(disk("/r/a.txt"), disk("/r/b.txt", size=20))
    r = records(rec("/r/a.txt"), rec("/r/b.txt", size=20))
    assert paths_to_hash(d, r) == set()
    plan = plan_sync(d, r)
    assert plan.unchanged == ("/r/a.txt", "/r/b.txt")
    assert plan.is_empty


def test_changed_stat_is_hashed_then_refresh_or_reembed() -> None:
    d = snapshot(disk("/r/touched.txt", mtime=2), disk("/r/edited.txt", mtime=2))
    r = records(rec("/r/touched.txt", digest="t"), rec("/r/edited.txt", digest="e"))
    assert paths_to_hash(d, r) == {"/r/touched.txt", "/r/edited.txt"}
    plan = plan_sync(with_hashes(d, {"/r/touched.txt": "t", "/r/edited.txt": "e2"}), r)
    assert plan.refresh == ("/r/touched.txt",)
    assert plan.reembed == ("/r/edited.txt",)
    assert plan.to_index == ("/r/edited.txt", "/r/touched.txt")


def test_new_and_deleted() -> None:
    d = snapshot(disk("/r/new.txt", size=5))
    r = records(rec("/r/old.txt", size=99))
    # A new file only needs a hash when it could be a moved record (same size).
    assert paths_to_hash(d, r) == set()
    plan = plan_sync(d, r)
    assert plan.add == ("/r/new.txt",)
    assert plan.delete == ("/r/old.txt",)
    assert plan.moves == ()


def test_deleted_plus_new_with_same_hash_is_a_move() -> None:
    d = snapshot(disk("/r/sub/renamed.txt"), disk("/r/other.txt"))
    r = records(rec("/r/notes.txt", digest="n"))
    assert paths_to_hash(d, r) == {"/r/sub/renamed.txt", "/r/other.txt"}
    hashed = with_hashes(d, {"/r/sub/renamed.txt": "n", "/r/other.txt": "x"})
    plan = plan_sync(hashed, r)
    assert plan.moves == (Move("/r/notes.txt", "/r/sub/renamed.txt"),)
    assert plan.add == ("/r/other.txt",)
    assert plan.delete == ()


def test_move_prefers_same_name_among_identical_contents() -> None:
    r = records(rec("/r/a/x.txt", digest="same"), rec("/r/a/y.txt", digest="same"))
    d = with_hashes(snapshot(disk("/r/b/y.txt")), {"/r/b/y.txt": "same"})
    plan = plan_sync(d, r)
    assert plan.moves == (Move("/r/a/y.txt", "/r/b/y.txt"),)
    assert plan.delete == ("/r/a/x.txt",)


def test_pending_record_is_redone_and_error_waits_for_a_change() -> None:
    d = snapshot(disk("/r/p.txt"), disk("/r/e.txt"), disk("/r/e2.txt", mtime=5))
    r = records(
        rec("/r/p.txt", status="pending"),
        rec("/r/e.txt", status="error"),
        rec("/r/e2.txt", status="error", digest=""),
    )
    plan = plan_sync(with_hashes(d, {"/r/e2.txt": "new"}), r)
    assert plan.reembed == ("/r/e2.txt", "/r/p.txt")
    assert plan.unchanged == ("/r/e.txt",)
    retry = plan_sync(with_hashes(d, {"/r/e2.txt": "new"}), r, retry_failed=True)
    assert retry.reembed == ("/r/e.txt", "/r/e2.txt", "/r/p.txt") and retry.unchanged == ()


def test_whole_folder_move_collapses() -> None:
    r = records(
        rec("/r/a/x/1.txt", digest="1"), rec("/r/a/x/s/2.txt", digest="2"), rec("/r/a/k.txt")
    )
    d = snapshot(disk("/r/b/x/1.txt"), disk("/r/b/x/s/2.txt"), disk("/r/a/k.txt"))
    plan = plan_sync(with_hashes(d, {"/r/b/x/1.txt": "1", "/r/b/x/s/2.txt": "2"}), r)
    assert plan.folder_moves == (Move("/r/a/x", "/r/b/x"),)
    assert plan.moves == ()
    assert plan.unchanged == ("/r/a/k.txt",)


def test_folder_rename_collapses_but_partial_move_does_not() -> None:
    r = records(rec("/r/old/1.txt"), rec("/r/old/2.txt"), rec("/r/old/3.txt"))
    whole = [Move(f"/r/old/{i}.txt", f"/r/new/{i}.txt") for i in (1, 2, 3)]
    assert collapse_moves(whole, r) == ([], [Move("/r/old", "/r/new")])
    partial = whole[:2]
    assert collapse_moves(partial, r) == (partial, [])


def test_deleted_folders_collapse_to_one_removal_each() -> None:
    r = records(
        rec("/r/gone/a.txt"), rec("/r/gone/sub/b.txt"), rec("/r/keep/c.txt"),
        rec("/r/keep/d.txt"), rec("/r/e.txt"),
    )  # fmt: skip
    files, folders = collapse_deletes(
        ["/r/gone/a.txt", "/r/gone/sub/b.txt", "/r/keep/d.txt"], r, ["/r"]
    )
    assert folders == ["/r/gone"]
    assert files == ["/r/keep/d.txt"]
    # Never above the watched folder, even when everything in it is deleted.
    files, folders = collapse_deletes(list(r), r, ["/r"])
    assert folders == ["/r"] and files == []
