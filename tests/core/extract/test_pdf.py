"""PDF extraction on generated PDFs, through the real child process."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop_rag.core.extract import (
    ExtractionError,
    ExtractLimits,
    Extractor,
    PdfExtractor,
    extract_file,
)
from desktop_rag.core.extract.base import Unreadable
from desktop_rag.core.extract.pdf import pages_to_parsed
from tests.core.extract import workers
from tests.core.extract.checks import assert_well_formed, section_for
from tests.core.extract.filegen import encrypt_pdf, make_pdf

LIMITS = ExtractLimits(pdf_timeout_s=30.0)


@pytest.fixture(scope="module")
def extractor():
    with Extractor(LIMITS) as shared:
        yield shared


def write_pdf(tmp_path: Path, name: str, pages, title: str | None = None) -> Path:
    path = tmp_path / name
    path.write_bytes(make_pdf(pages, title=title))
    return path


def test_pages_become_sections_with_page_numbers(tmp_path: Path, extractor: Extractor) -> None:
    path = write_pdf(
        tmp_path,
        "three.pdf",
        [["Alpha page one", "second line (with parens)"], ["Beta page two"], ["Gamma page three"]],
        title="Microsoft Word - three.docx",
    )
    doc = extractor.extract(path)
    assert_well_formed(doc)
    assert doc.kind == "pdf" and doc.warnings == () and doc.title is None
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert section_for(doc, "Alpha").text == "Alpha page one\nsecond line (with parens)"
    assert section_for(doc, "Gamma").page == 3
    assert doc.text == (
        "Alpha page one\nsecond line (with parens)\n\nBeta page two\n\nGamma page three"
    )


def test_pages_without_text_are_named_in_a_warning(tmp_path: Path, extractor: Extractor) -> None:
    path = write_pdf(tmp_path, "partial.pdf", [["Cover"], None, None, ["Text again"], None], "Plan")
    doc = extractor.extract(path)
    assert doc.title == "Plan"
    assert [s.page for s in doc.sections] == [1, 4]
    assert doc.warnings == ("pages 2-3, 5 have no text layer",)


def test_no_text_at_all_is_a_scanned_pdf(tmp_path: Path, extractor: Extractor) -> None:
    with pytest.raises(ExtractionError, match=r"no text layer \(scanned PDF\?\)"):
        extractor.extract(write_pdf(tmp_path, "scan.pdf", [None, None]))


def test_user_password_is_refused_but_owner_only_opens(
    tmp_path: Path, extractor: Extractor
) -> None:
    plain = make_pdf([["Confidential numbers"]])
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(encrypt_pdf(plain, user_password="secret"))
    with pytest.raises(ExtractionError, match=r"encrypted \(password protected\)"):
        extractor.extract(locked)
    owner_only = tmp_path / "owner_only.pdf"
    owner_only.write_bytes(encrypt_pdf(plain, user_password=""))
    assert extractor.extract(owner_only).text == "Confidential numbers"


@pytest.mark.skipif(
    importlib.util.find_spec("cryptography") is None, reason="AES needs 'cryptography'"
)
def test_owner_only_aes_pdf_opens(tmp_path: Path, extractor: Extractor) -> None:
    path = tmp_path / "aes.pdf"
    path.write_bytes(encrypt_pdf(make_pdf([["AES protected text"]]), "", algorithm="AES-256"))
    assert extractor.extract(path).text == "AES protected text"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + b"\x8f\x00garbage" * 50,
        make_pdf([["Truncated in the middle"]])[:60],
        b"Not a PDF at all, just words.",
    ],
)
def test_corrupt_pdf(tmp_path: Path, extractor: Extractor, data: bytes) -> None:
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(data)
    with pytest.raises(ExtractionError, match=r"corrupt or unreadable PDF: .+"):
        extractor.extract(path)


def test_extract_file_works_standalone(tmp_path: Path) -> None:
    path = write_pdf(tmp_path, "solo.pdf", [["Standalone extraction"]])
    assert extract_file(path, LIMITS).sections[0].page == 1


def test_time_limit_kills_the_child_and_the_next_file_gets_a_new_one(tmp_path: Path) -> None:
    path = write_pdf(tmp_path, "slow.pdf", [["x"]])
    limits = ExtractLimits(pdf_timeout_s=0.5)
    with PdfExtractor(limits, read_pages=workers.sleep_forever) as pdf:
        started = time.monotonic()
        with pytest.raises(Unreadable, match=r"PDF extraction timed out after 0\.5 s"):
            pdf.extract(path)
        assert time.monotonic() - started < 10
        assert pdf._process is None  # killed, not left running
        with pytest.raises(Unreadable, match="timed out"):
            pdf.extract(path)


def test_abort_from_another_thread_ends_a_running_extraction(tmp_path: Path) -> None:
    path = write_pdf(tmp_path, "slow.pdf", [["x"]])
    with PdfExtractor(LIMITS, read_pages=workers.sleep_forever) as pdf:
        timer = threading.Timer(0.5, pdf.abort)
        timer.start()
        started = time.monotonic()
        with pytest.raises(Unreadable, match="PDF extraction was cancelled"):
            pdf.extract(path)
        assert time.monotonic() - started < 10  # far below the 30 s limit


def test_crash_becomes_an_error_and_the_worker_restarts(tmp_path: Path) -> None:
    good = write_pdf(tmp_path, "good.pdf", [["Survives a crash"]])
    crash = write_pdf(tmp_path, "crash.pdf", [["never read"]])
    with PdfExtractor(LIMITS, read_pages=workers.segfault_on_crash_name) as pdf:
        assert pdf.extract(good).text == "Survives a crash"
        with pytest.raises(Unreadable, match=r"PDF extractor crashed \(SIGSEGV\)"):
            pdf.extract(crash)
        assert pdf.extract(good).text == "Survives a crash"


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux only")
def test_memory_limit(tmp_path: Path) -> None:
    path = write_pdf(tmp_path, "hungry.pdf", [["x"]])
    limits = ExtractLimits(pdf_timeout_s=30.0, pdf_memory_mb=300)
    with (
        PdfExtractor(limits, read_pages=workers.exhaust_memory) as pdf,
        pytest.raises(Unreadable, match=r"ran out of memory \(limit 300 MB\)"),
    ):
        pdf.extract(path)


def test_one_child_serves_many_files(tmp_path: Path) -> None:
    path = write_pdf(tmp_path, "a.pdf", [["x"]])
    with PdfExtractor(LIMITS, read_pages=workers.report_pid) as pdf:
        pids = {pdf.extract(path).text for _ in range(3)}
    assert len(pids) == 1 and next(iter(pids)).startswith("worker pid")


def test_pages_to_parsed_is_pure() -> None:
    parsed = pages_to_parsed(["one\r\n", "", "three\x00"], " My   Report ", failed=[2])
    assert parsed.text == "one\n\nthree" and parsed.title == "My Report"
    assert parsed.warnings == ("page 2 could not be read",)
    blank = pages_to_parsed(["a", "", "", "b", ""], None, failed=[])
    assert blank.warnings == ("pages 2-3, 5 have no text layer",)
    with pytest.raises(Unreadable, match="no page could be read"):
        pages_to_parsed(["", ""], None, failed=[1, 2])
    with pytest.raises(Unreadable, match="no pages"):
        pages_to_parsed([], None, failed=[])
