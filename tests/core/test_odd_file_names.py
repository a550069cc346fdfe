"""File names that are not UTF-8 (legacy code pages on old USB sticks and in archives), and
one file's failure at any stage staying that file's alone. Real LanceDB, real files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from desktop_rag.core.cli import main as cli_main
from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.index.store import Store
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.path_keys import display_path
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.settings import Settings
from desktop_rag.core.sync.engine import SyncEngine
from desktop_rag.core.sync.folders import FolderStore

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="other systems refuse names that are not UTF-8"
)
NAMES = {
    "café.md".encode("cp1252"): "The café on the quay serves quinoa porridge at dawn.",
    "テスト資料.md".encode("cp932"): "The test materials mention the heliotrope archive.",
    "Müller Bericht.txt".encode("cp1252"): "Müller reports seventeen tortoises in the garden.",
}


def _write_odd_names(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plain.md").write_text("A plain note about the lighthouse keeper's ledger.")
    for name, text in NAMES.items():
        fd = os.open(os.fsencode(folder) + b"/" + name, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, text.encode("utf-8"))
        os.close(fd)


def _kb(data_dir: Path) -> KnowledgeBase:
    return KnowledgeBase(AppPaths(data_dir), Settings(), embedder=FakeEmbedder())


@linux_only
def test_names_that_are_not_utf8_are_indexed_found_and_shown_readable(data_dir, tmp_path):
    docs = tmp_path / "usb"
    _write_odd_names(docs)
    kb = _kb(data_dir)
    report = kb.index([docs])
    assert report.indexed == 4 and not report.skipped
    hit = kb.search_keyword("quinoa porridge", 1)[0]
    assert os.path.exists(hit.path)  # the exact name: the file opens again
    assert display_path(hit.path).endswith("/café.md")
    assert display_path(kb.search_keyword("heliotrope", 1)[0].path).endswith("/テスト資料.md")
    # The file name is searchable as a person reads it.
    assert display_path(kb.search_keyword("Müller Bericht", 1)[0].path).endswith("Bericht.txt")
    # Unchanged on a second run: the stored names round-trip exactly.
    again = kb.index([docs])
    assert again.indexed == 0 and again.unchanged == 4
    kb.close()


@linux_only
def test_the_cli_indexes_the_whole_folder_and_prints_readable_names(data_dir, tmp_path, capsys):
    docs = tmp_path / "archive"
    _write_odd_names(docs)
    assert cli_main(["--data-dir", str(data_dir), "index", str(docs)]) == 0
    assert "indexed 4 files" in capsys.readouterr().out
    assert cli_main(["--data-dir", str(data_dir), "search", "quinoa porridge", "-k", "1"]) == 0
    assert "café.md" in capsys.readouterr().out


@linux_only
def test_a_watched_folder_with_such_names_syncs_and_so_does_its_own_odd_name(tmp_path):
    root = Path(os.fsdecode(os.fsencode(tmp_path) + b"/d\xe9j\xe0 vu"))  # cp1252 folder name
    _write_odd_names(root)
    paths = AppPaths(tmp_path / "data").ensure()
    kb = KnowledgeBase(paths, Settings(), embedder=FakeEmbedder())
    engine = SyncEngine(kb, FolderStore(paths.state_db))
    first = engine.add_folder(root)
    assert first.index.indexed == 4
    assert [f.path for f in engine.folders.list()] == [str(root)]
    again = engine.reconcile(root)
    assert again.plan.is_empty, again.plan.summary()
    (root / "plain.md").unlink()
    os.unlink(os.fsencode(root) + b"/" + "café.md".encode("cp1252"))
    assert engine.reconcile(root).index.removed == 2
    assert len(kb.file_records(root)) == 2
    engine.remove_folder(root)
    assert kb.file_records() == []
    kb.close()


def test_a_file_that_cannot_be_saved_costs_only_itself(data_dir, tmp_path, monkeypatch):
    """The batched write holds many files: one that spoils it must not take the others."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(6):
        (docs / f"n{i}.md").write_text(f"Note {i} about the orchard's pear number {i}.")
    real = Store.write_files

    def fussy(self, items):
        if any(record.path.endswith("n3.md") for record, chunks in items if chunks):
            raise OSError("disk says no to n3")
        return real(self, items)

    monkeypatch.setattr(Store, "write_files", fussy)
    kb = _kb(data_dir)
    report = kb.index([docs])
    assert report.indexed == 5
    (skipped,) = report.skipped
    assert skipped.path.endswith("n3.md") and "could not be saved in the index" in skipped.reason
    records = {Path(r.path).name: r for r in kb.file_records(docs)}
    assert records["n3.md"].status == "error" and records["n4.md"].status == "indexed"
    kb.close()


def test_an_embedding_failure_costs_only_its_file(data_dir, tmp_path):
    class Picky(FakeEmbedder):
        def embed(self, texts):
            if any("poison" in t for t in texts):
                raise ValueError("the model cannot read this")
            return super().embed(texts)

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(4):
        (docs / f"n{i}.md").write_text(f"Note {i} about apples.")
    (docs / "bad.md").write_text("This note holds poison for the model.")
    kb = KnowledgeBase(AppPaths(data_dir), Settings(), embedder=Picky())
    report = kb.index([docs])
    assert report.indexed == 4
    assert [Path(s.path).name for s in report.skipped] == ["bad.md"]
    assert "embedding model could not read" in report.skipped[0].reason
    kb.close()
