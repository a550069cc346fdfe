from __future__ import annotations

from pathlib import Path

import pytest

from desktop_rag.core.ingest.extract import (
    SUPPORTED_SUFFIXES,
    ExtractionError,
    extract_file,
    is_supported,
)
from tests.core.ingest.extract.checks import assert_well_formed

CHINESE = "会议纪要：我们讨论了景德镇的青花瓷茶杯，以及明年春天的展览计划。\n" * 4
LATIN = "Café crème, façade, naïve garçon; Ærøskøbing and Zürich. Straße über Öl.\n" * 4


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("utf8.txt", "naïve ünïcode ✓\n".encode(), "naïve ünïcode ✓"),
        ("bom8.txt", b"\xef\xbb\xbf" + "mit BOM äöü\n".encode(), "mit BOM äöü"),
        ("utf16le.txt", b"\xff\xfe" + "UTF-16 LE ĉu ŝi\n".encode("utf-16-le"), "UTF-16 LE ĉu ŝi"),
        ("utf16be.txt", b"\xfe\xff" + "UTF-16 BE 日本語\n".encode("utf-16-be"), "UTF-16 BE 日本語"),
        ("utf32.txt", "UTF-32 𝄞 clef\n".encode("utf-32"), "UTF-32 𝄞 clef"),
        ("nobom16.txt", "plain ascii as utf-16\n".encode("utf-16-le"), "plain ascii as utf-16"),
        ("gbk.txt", CHINESE.encode("gbk"), "青花瓷茶杯"),
        (
            "sjis.txt",
            ("東京の天気は晴れです。明日は雨が降るでしょう。\n" * 4).encode("shift_jis"),
            "東京の天気",
        ),
        ("latin1.txt", LATIN.encode("latin-1"), "Café crème, façade"),
        (
            "cp1252.txt",
            ("“Smart quotes” cost 5 € — or so.\n" * 6).encode("cp1252"),
            "“Smart quotes”",
        ),
    ],
)
def test_encodings_are_decoded(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    doc = extract_file(write(tmp_path, name, data))
    assert expected in doc.text
    assert not doc.text.startswith("\ufeff")
    assert doc.kind == "text"
    assert_well_formed(doc)


def test_newlines_are_normalised(tmp_path: Path) -> None:
    doc = extract_file(write(tmp_path, "crlf.log", b"one\r\ntwo\rthree\n"))
    assert doc.text == "one\ntwo\nthree\n"
    assert doc.sections[0].text == "one\ntwo\nthree"


def test_source_code_is_one_code_section(tmp_path: Path) -> None:
    source = "def add(a, b):\n    return a + b\n"
    doc = extract_file(write(tmp_path, "maths.py", source.encode()))
    assert (doc.kind, doc.text, len(doc.sections)) == ("code", source, 1)
    assert doc.sections[0].heading_path == () and doc.sections[0].page is None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("nul.txt", b"text then\x00\x00\x00 nul bytes" * 10),
        ("controls.csv", bytes(range(1, 9)) * 50 + b"a,b\n"),
        ("elf.sh", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4),
    ],
)
def test_binary_content_is_refused(tmp_path: Path, name: str, data: bytes) -> None:
    with pytest.raises(ExtractionError, match="binary content, not text"):
        extract_file(write(tmp_path, name, data))


def test_ansi_colours_in_logs_are_text(tmp_path: Path) -> None:
    data = b"\x1b[32mOK\x1b[0m build passed in 3.2 s\n" * 5
    assert "build passed" in extract_file(write(tmp_path, "build.log", data)).text


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", b"\xef\xbb\xbf \n"])
def test_empty_or_blank_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ExtractionError, match="the file is empty"):
        extract_file(write(tmp_path, "blank.md", data))


def test_supported_types() -> None:
    for name in ["a.PDF", "b.md", "c.MDX", "d.txt", "e.py", "f.rst", "g.htm", "h.docx", "i.json"]:
        assert is_supported(Path(name)), name
    for name in ["README", "Makefile", "LICENSE", "Dockerfile"]:
        assert is_supported(Path("/some/dir") / name), name
    for name in [
        "photo.jpg",
        "archive.zip",
        "song.mp3",
        "sheet.xlsx",
        "noext",
        ".gitignore",
        "a.doc",
    ]:
        assert not is_supported(Path(name)), name
    assert {".pdf", ".md", ".txt", ".rst", ".html", ".docx", ".py"} <= SUPPORTED_SUFFIXES


def test_extensionless_names_get_a_kind(tmp_path: Path) -> None:
    assert extract_file(write(tmp_path, "Makefile", b"all:\n\techo hi\n")).kind == "code"
    assert extract_file(write(tmp_path, "README", b"Read me first.\n")).kind == "text"
