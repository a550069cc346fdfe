"""Folders of real good and bad files for tests of the indexer, the CLI and the GUI.

    reasons = make_bad_files(folder)      # name -> substring of the ExtractionError reason
    phrases = make_good_files(folder)     # name -> a distinctive phrase inside that file
    extract with BAD_FILES_LIMITS (or at least ExtractLimits(max_bytes=BAD_FILES_MAX_BYTES))

`make_bad_files` also writes one legacy GBK text file, `GBK_NAME`, that must index fine
(it is not in the returned dict; its phrase is `GBK_PHRASE`). The permission-denied file is
only written when the tests do not run as root, who can read anything (see
`CAN_DENY_PERMISSION`).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from desktop_rag.core.ingest.extract import ExtractLimits
from tests.core.ingest.extract.filegen import encrypt_pdf, make_docx, make_pdf

BAD_FILES_MAX_BYTES = 256 * 1024
BAD_FILES_LIMITS = ExtractLimits(max_bytes=BAD_FILES_MAX_BYTES, pdf_timeout_s=60.0)
CAN_DENY_PERMISSION = os.name == "posix" and getattr(os, "geteuid", lambda: 0)() != 0

GBK_NAME = "legacy_gbk.txt"
GBK_PHRASE = "青花瓷茶杯"
GBK_TEXT = (
    "会议纪要：我们讨论了景德镇的青花瓷茶杯，以及明年春天的展览计划。\n"
    "每一件瓷器都需要手工绘制，烧制温度大约是一千三百度。\n"
) * 3

GOOD_PDF_NAME = "field_report.pdf"
GOOD_PDF_PAGES = {
    1: "The glacier survey began at the northern moraine in early May.",
    2: "Meltwater discharge peaked at forty cubic metres per second in July.",
    3: "The team recommends installing two more weather stations next year.",
}


def make_bad_files(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    reasons: dict[str, str] = {}

    def write(name: str, data: bytes, reason: str) -> None:
        (folder / name).write_bytes(data)
        reasons[name] = reason

    good_pdf = make_pdf([["Quarterly numbers for the harbour authority."]])
    write("corrupt.pdf", good_pdf[:40] + b"\x00garbage" * 20, "corrupt or unreadable PDF")
    write("locked.pdf", encrypt_pdf(good_pdf, "secret"), "encrypted (password protected)")
    write("scanned.pdf", make_pdf([None, None]), "no text layer (scanned PDF?)")
    write("empty.md", b"", "the file is empty")
    write("blank.txt", b"  \n\t\n  ", "the file is empty")
    noise = random.Random(7).randbytes(4096)
    write("binary.txt", b"\x00\x01\x02BINARY" + noise, "binary content, not text")
    write("huge.txt", b"lorem ipsum dolor\n" * (BAD_FILES_MAX_BYTES // 18 + 100), "too large")
    write("broken.docx", b"PK\x03\x04 this is not really a zip archive", "corrupt DOCX")
    (folder / GBK_NAME).write_bytes(GBK_TEXT.encode("gbk"))
    loop = folder / "loop.txt"
    loop.symlink_to(loop.name)
    reasons[loop.name] = "symbolic link loop"
    if CAN_DENY_PERMISSION:
        write("private.txt", b"nobody may read this", "permission denied")
        (folder / "private.txt").chmod(0)
    return reasons


def make_good_files(folder: Path) -> dict[str, str]:
    """Name -> phrase. The PDF's phrases per page are in `GOOD_PDF_PAGES` (page 2 returned)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "notes.md": (
            "---\ntitle: Beekeeping notes\n---\n# Hives\n\n## Winter\n\n"
            "The bees cluster around the queen and shiver to keep the hive warm.\n",
            "shiver to keep the hive warm",
        ),
        "recipe.txt": (
            "Sourdough: feed the starter with rye flour twelve hours before baking.\n",
            "feed the starter with rye flour",
        ),
        "page.html": (
            "<html><head><title>Tides</title><script>var hidden = 'script text';</script></head>"
            "<body><h1>Tides</h1><p>Spring tides happen when the sun and moon align.</p>"
            "</body></html>",
            "Spring tides happen when the sun and moon align",
        ),
        "guide.rst": (
            "Telescope guide\n===============\n\nCollimation\n-----------\n\n"
            "Align the secondary mirror before every observing night.\n",
            "Align the secondary mirror",
        ),
    }
    phrases = {}
    for name, (text, phrase) in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        phrases[name] = phrase
    (folder / "minutes.docx").write_bytes(
        make_docx(
            [
                ("h1", "Board minutes"),
                ("p", "The board approved a new bicycle shed for the staff car park."),
                ("table", [["Item", "Cost"], ["Shed", "4200"]]),
            ]
        )
    )
    phrases["minutes.docx"] = "approved a new bicycle shed"
    pages = [[GOOD_PDF_PAGES[n]] for n in sorted(GOOD_PDF_PAGES)]
    (folder / GOOD_PDF_NAME).write_bytes(make_pdf(pages, title="Glacier field report"))
    phrases[GOOD_PDF_NAME] = GOOD_PDF_PAGES[2]
    return phrases
