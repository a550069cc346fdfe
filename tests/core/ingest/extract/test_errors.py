"""Every way a file can fail becomes an ExtractionError with a reason a person understands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import desktop_rag.core.ingest.extract as extract
from desktop_rag.core.ingest.extract import (
    ExtractionError,
    ExtractLimits,
    PdfExtractor,
    extract_file,
)
from desktop_rag.core.ingest.extract.base import Unreadable
from desktop_rag.core.ingest.extract.limits import DEFAULT_LIMITS
from desktop_rag.core.ingest.extract.reading import human_size
from tests.core.ingest.extract.filegen import make_pdf

IS_ROOT = getattr(os, "geteuid", lambda: 0)() == 0


def reason_of(path: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ExtractionError) as info:
        extract_file(path, limits)
    assert info.value.path == str(path)
    return info.value.reason


def test_vanished_file(tmp_path: Path) -> None:
    assert reason_of(tmp_path / "gone.txt") == "file no longer exists"
    assert reason_of(tmp_path / "gone.pdf") == "file no longer exists"


def test_vanished_between_check_and_child(tmp_path: Path) -> None:
    with PdfExtractor() as pdf, pytest.raises(Unreadable, match="file no longer exists"):
        pdf.extract(tmp_path / "gone.pdf")


def test_symbolic_link_loop(tmp_path: Path) -> None:
    (tmp_path / "a.md").symlink_to("b.md")
    (tmp_path / "b.md").symlink_to("a.md")
    assert reason_of(tmp_path / "a.md") == "symbolic link loop"


def test_folder_and_fifo_are_not_files(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    assert reason_of(tmp_path / "folder.txt") == "is a folder, not a file"
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.txt")
        assert reason_of(tmp_path / "pipe.txt") == "not a regular file"  # and did not block


def test_too_large(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 3000)
    assert reason_of(big, ExtractLimits(max_bytes=1024)) == "too large (2.9 KB, limit 1 KB)"
    pdf = tmp_path / "big.pdf"
    pdf.write_bytes(make_pdf([["a page"]] * 5))
    assert reason_of(pdf, ExtractLimits(max_bytes=100)).startswith("too large (")


def test_human_size() -> None:
    sizes = [500, 1024, 1536, 150 * 1024**2, 100 * 1024**2, 3 * 1024**3]
    assert [human_size(n) for n in sizes] == [
        "500 bytes", "1 KB", "1.5 KB", "150 MB", "100 MB", "3 GB"
    ]  # fmt: skip


@pytest.mark.skipif(IS_ROOT or os.name != "posix", reason="root reads files without permission")
def test_permission_denied_for_real(tmp_path: Path) -> None:
    path = tmp_path / "private.txt"
    path.write_text("secret")
    path.chmod(0)
    assert reason_of(path) == "permission denied"


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "private.txt"
    path.write_text("secret")

    def refuse(self: Path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    assert reason_of(path) == "permission denied"


def test_unsupported_type(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    assert reason_of(path) == "unsupported file type (.jpg)"


def test_unexpected_errors_are_wrapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(text: str):
        raise RuntimeError("boom")

    monkeypatch.setitem(extract._TEXT_PARSERS, "text", explode)
    path = tmp_path / "a.txt"
    path.write_text("fine text")
    assert reason_of(path) == "unexpected error while reading: RuntimeError: boom"


def test_message_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError) as info:
        extract_file(tmp_path / "gone.txt")
    assert str(info.value) == f"{tmp_path / 'gone.txt'}: file no longer exists"
