"""`desktop-rag index / search / status` through `core.cli.main`, with the fake embedder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from desktop_rag.core import cli
from desktop_rag.core.cli import index as index_cmd
from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import app_paths
from desktop_rag.core.records import Progress
from desktop_rag.core.settings import Settings


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch):
    def open_fake(data_dir):
        return KnowledgeBase(app_paths(data_dir), Settings(), embedder=FakeEmbedder())

    monkeypatch.setattr(index_cmd, "open_knowledge_base", open_fake)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "ok.md").write_text(
        "# Notes\n\nThe heron stands in the shallow water.\n", encoding="utf-8"
    )
    (root / "bad.txt").write_bytes(b"")
    return root


def test_index_search_status(docs: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]):
    assert cli.main(["--data-dir", str(data_dir), "index", str(docs)]) == 0
    out = capsys.readouterr()
    assert "indexed 1 files, 0 unchanged, 1 skipped" in out.out
    assert f"skipped {docs / 'bad.txt'}: the file is empty" in out.out
    assert "/2 files" in out.err  # progress lines on stderr

    assert (
        cli.main(["--data-dir", str(data_dir), "search", "heron water", "--json", "-k", "3"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["path"] == str(docs / "ok.md")
    assert {"path", "page", "start", "end", "score", "text"} <= set(rows[0])
    assert "heron stands" in rows[0]["text"]
    text = (docs / "ok.md").read_text(encoding="utf-8")
    assert text[rows[0]["start"] : rows[0]["end"]] == rows[0]["text"]

    assert cli.main(["--data-dir", str(data_dir), "index", str(docs)]) == 0
    assert "0 files, 2 unchanged, 0 skipped" in capsys.readouterr().out  # the failure waits
    assert cli.main(["--data-dir", str(data_dir), "index", str(docs), "--retry-failed"]) == 0
    assert "0 files, 1 unchanged, 1 skipped" in capsys.readouterr().out  # read again

    elsewhere = ["--folder", str(docs.parent / "elsewhere")]
    assert cli.main(["--data-dir", str(data_dir), "search", "heron", "--json", *elsewhere]) == 0
    assert json.loads(capsys.readouterr().out) == []
    here = ["--folder", str(docs)]
    assert cli.main(["--data-dir", str(data_dir), "search", "heron", "--json", *here]) == 0
    assert json.loads(capsys.readouterr().out)[0]["path"] == str(docs / "ok.md")

    assert cli.main(["--data-dir", str(data_dir), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["files"], status["embedder"]) == (1, "fake-embedder")
    assert status["errors"] == [{"path": str(docs / "bad.txt"), "reason": "the file is empty"}]

    assert cli.main(["--data-dir", str(data_dir), "status"]) == 0
    human = capsys.readouterr().out
    assert "files: 1" in human and "bad.txt: the file is empty" in human


def test_env_var_relocates_data(docs, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("DESKTOP_RAG_HOME", str(home))
    assert cli.main(["index", str(docs / "ok.md")]) == 0
    assert (home / "index" / "manifest.json").is_file()
    capsys.readouterr()
    assert cli.main(["search", "heron"]) == 0
    assert "ok.md" in capsys.readouterr().out


def test_progress_printer_tty_and_pipe():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    printer = index_cmd.ProgressPrinter(tty)
    printer(Progress(120, 300, "/x/file.pdf", "extracting"))
    printer.finish()
    assert tty.getvalue().startswith("\r[#########               ] 120/300 files")
    assert "file.pdf" in tty.getvalue() and tty.getvalue().endswith("\n")

    pipe = io.StringIO()
    printer = index_cmd.ProgressPrinter(pipe, interval_s=3600)
    for i in range(50):
        printer(Progress(i, 50, f"/x/{i}.txt", "extracting"))
    printer(Progress(50, 50, "", "done"))
    lines = pipe.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in pipe.getvalue()
