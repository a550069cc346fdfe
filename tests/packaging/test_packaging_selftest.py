"""The self-test that `make package-test` runs inside the frozen app, here run from source."""

from __future__ import annotations

import io
import socket

import pypdf
import pytest

from desktop_rag.core import cli
from desktop_rag.core.install import network_guard, selftest
from desktop_rag.core.install.tiny_pdf import tiny_pdf


def test_tiny_pdf_holds_the_lines_pypdf_reads_back():
    data = tiny_pdf(["First line (with parentheses)", "Back\\slash line"])
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    assert reader.pages[0].extract_text().splitlines() == [
        "First line (with parentheses)",
        "Back\\slash line",
    ]


def test_tiny_pdf_refuses_text_its_font_cannot_show():
    with pytest.raises(ValueError, match="ASCII"):
        tiny_pdf(["Vardø"])


def test_network_guard_refuses_and_records_connections_then_restores_them():
    real_connect = socket.socket.connect
    with network_guard.blocked() as attempts:
        with pytest.raises(OSError, match="network access is disabled"):
            socket.create_connection(("192.0.2.1", 9), timeout=1)
        left, right = socket.socketpair()  # local sockets stay usable
        left.close(), right.close()
    assert attempts == [("192.0.2.1", 9)]
    assert socket.socket.connect is real_connect


def test_selftest_fails_with_a_reason_when_the_app_is_not_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    lines: list[str] = []
    assert selftest.run(out=lines.append) == 1
    assert lines == [
        "SELFTEST FAILED: HF_HUB_OFFLINE is not 1: the app could try to reach a model hub"
    ]


def test_selftest_refuses_a_work_folder_that_is_not_empty(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    lines: list[str] = []
    assert selftest.run(tmp_path, out=lines.append) == 1
    assert lines[-1] == f"SELFTEST FAILED: the work folder {tmp_path} is not empty"
    assert (tmp_path / "mine.txt").read_text() == "keep me"


@pytest.mark.slow
def test_selftest_command_passes_on_the_real_models(tmp_path, capsys, no_network):
    """Real MiniLM, real SmolLM2 in its child process, real LanceDB, a real PDF child."""
    work = tmp_path / "work"
    assert cli.main(["selftest", "--work-dir", str(work)]) == 0

    lines = capsys.readouterr().out.splitlines()
    steps = [line.split(":")[0] for line in lines if line.startswith("[")]
    assert steps == [
        "[1/7] environment",
        "[2/7] models",
        "[3/7] native libraries",
        "[4/7] sample folder",
        "[5/7] index",
        "[6/7] search",
        "[7/7] answer",
    ]
    assert "top hit selftest-probe.pdf page 1" in next(s for s in lines if s.startswith("[6/7]"))
    assert "cites selftest-probe.pdf" in next(s for s in lines if s.startswith("[7/7]"))
    assert lines[-1].startswith("SELFTEST OK")
    assert (work / "sample" / selftest.PROBE_FILE).is_file()  # an explicit work folder is kept
    assert (work / "data" / "index").is_dir()
