from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from desktop_rag.core.sync.folders import (
    FolderError,
    FolderStore,
    WatchedFolder,
    classify_overlap,
    is_under,
    probe,
)


def test_classify_overlap_is_pure() -> None:
    assert classify_overlap("/a/b/c", ["/a/b", "/x"]).covered_by == "/a/b"
    assert classify_overlap("/a", ["/a/b", "/a/c/d", "/ab"]).absorbs == ("/a/b", "/a/c/d")
    assert classify_overlap("/ab", ["/a"]).covered_by is None  # a prefix is not a parent
    assert is_under("/a/b", "/a") and not is_under("/ab", "/a")


def test_add_list_pause_resume_remove_persist(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    db = tmp_path / "state.sqlite3"
    store = FolderStore(db)
    result = store.add(docs)
    assert result.folder is not None and result.folder.path == str(docs.resolve())
    assert store.set_paused(docs, True).paused
    reopened = FolderStore(db)  # state survives a new process
    [folder] = reopened.list()
    assert folder.paused and not folder.active
    assert reopened.set_paused(docs, False).active
    assert reopened.set_available(docs, False).available is False
    reopened.mark_reconciled(docs, when=123.0)
    assert reopened.get(docs).last_reconciled == 123.0
    assert reopened.remove(docs).path == str(docs.resolve())
    assert reopened.list() == []


def test_nested_folder_is_covered_and_parent_absorbs(tmp_path: Path) -> None:
    for sub in ("root/a/inner", "root/b"):
        (tmp_path / sub).mkdir(parents=True)
    store = FolderStore(tmp_path / "s.db")
    store.add(tmp_path / "root/a")
    store.add(tmp_path / "root/b")
    inner = store.add(tmp_path / "root/a/inner")
    assert inner.folder is None and inner.covered_by == str((tmp_path / "root/a").resolve())
    again = store.add(tmp_path / "root/a")
    assert again.already_watched
    parent = store.add(tmp_path / "root")
    assert parent.absorbed == (
        str((tmp_path / "root/a").resolve()),
        str((tmp_path / "root/b").resolve()),
    )
    assert [f.path for f in store.list()] == [str((tmp_path / "root").resolve())]
    assert store.covering(tmp_path / "root/b/file.txt").path == str((tmp_path / "root").resolve())


def test_errors_are_for_people(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "s.db")
    with pytest.raises(FolderError, match="is not a folder that exists"):
        store.add(tmp_path / "missing")
    with pytest.raises(FolderError, match="is not a watched folder"):
        store.remove(tmp_path)


def test_usable_from_several_threads(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "s.db")
    folders = []
    for i in range(8):
        (tmp_path / f"f{i}").mkdir()
        folders.append(tmp_path / f"f{i}")
    threads = [threading.Thread(target=store.add, args=(f,)) for f in folders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.list()) == 8


def test_probe_tells_an_empty_mount_point_from_a_folder(tmp_path: Path) -> None:
    mount = tmp_path / "mnt"
    mount.mkdir()
    real_device = os.stat(mount).st_dev
    assert probe(WatchedFolder(str(mount), device=real_device)) == (True, real_device)
    # Left behind by an unmounted drive: same path, other file system, nothing inside.
    assert probe(WatchedFolder(str(mount), device=real_device + 1))[0] is False
    (mount / "note.md").write_text("x")  # a new drive mounted there: usable
    assert probe(WatchedFolder(str(mount), device=real_device + 1))[0] is True
    assert probe(WatchedFolder(str(tmp_path / "missing")))[0] is False


def test_cli_folders_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_rag.core.cli import main

    docs = tmp_path / "docs"
    (docs / "inner").mkdir(parents=True)
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "folders", "add", "--no-index", str(docs)]) == 0
    assert main([*data, "folders", "add", "--no-index", str(docs / "inner")]) == 0
    assert main([*data, "folders", "pause", str(docs)]) == 0
    assert main([*data, "folders", "list"]) == 0
    out = capsys.readouterr().out
    assert f"watching {docs}" in out
    assert f"already inside watched folder {docs}" in out
    assert f"paused            0 files  {docs}" in out
    assert main([*data, "folders", "resume", str(docs)]) == 0
    assert main([*data, "folders", "remove", str(docs)]) == 0
    assert main([*data, "folders", "list"]) == 0
    assert "no watched folders" in capsys.readouterr().out
    assert main([*data, "folders", "remove", str(docs)]) == 2  # a message, not a traceback
    assert "is not a watched folder" in capsys.readouterr().err
