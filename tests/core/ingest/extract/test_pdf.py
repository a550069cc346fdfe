"""PDF extraction on generated PDFs, through the real child process."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop_rag.core.ingest.extract import (
    ExtractionError,
    ExtractLimits,
    Extractor,
    PdfExtractor,
    extract_file,
)
from desktop_rag.core.ingest.extract.base import Unreadable
from desktop_rag.core.ingest.extract.pdf import pages_to_parsed
from tests.core.ingest.extract import workers
from tests.core.ingest.extract.checks import assert_well_formed, section_for
from tests.core.ingest.extract.filegen import encrypt_pdf, make_pdf

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


def test_form_field_values_are_read_on_their_page_and_a_form_is_no_scan(tmp_path: Path) -> None:
    fields = {
        0: [("Tx", "applicant", "Ingrid Vasquez-Oduya", 600), ("Tx", "town", "Lerwick", 580),
            ("Btn", "Agree to the terms", "Yes", 560), ("Btn", "Newsletter", "Off", 540)],
        1: [("Tx", "allergies", "hazelnuts and celery", 700)],
    }  # fmt: skip
    path = tmp_path / "form.pdf"
    path.write_bytes(make_pdf([["Membership application", "Name:", "Town:"], None], fields=fields))
    doc = extract_file(path, LIMITS)
    assert section_for(doc, "Vasquez-Oduya").page == 1
    assert "Lerwick" in section_for(doc, "Vasquez-Oduya").text
    assert "[x] Agree to the terms" in doc.text and "Newsletter" not in doc.text
    # The second page has only a filled field: that is text, not a scanned page.
    assert section_for(doc, "hazelnuts and celery").page == 2
    assert not doc.warnings
    only_fields = tmp_path / "only-fields.pdf"
    only_fields.write_bytes(make_pdf([None], fields={0: [("Tx", "total", "4,200 euros", 700)]}))
    assert extract_file(only_fields, LIMITS).text == "4,200 euros"


def test_a_pdf_pypdf_refuses_is_read_by_pdfium(tmp_path: Path) -> None:
    """pypdf stops at its safety limit ("Reached maximum array element count"), which real
    filings hit; every viewer opens them."""
    huge_array = b" /PieceInfo [" + b"0 " * 100_001 + b"]"
    path = tmp_path / "10-q.pdf"
    pages = [["Quarterly report: revenue rose 12 percent."], ["Risk factors: supply chains."]]
    path.write_bytes(make_pdf(pages, catalog_extra=huge_array))
    doc = extract_file(path, LIMITS)
    assert section_for(doc, "revenue rose 12 percent").page == 1
    assert section_for(doc, "supply chains").page == 2


def test_when_every_extractor_fails_the_reason_names_the_file_and_both_causes(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    with pytest.raises(ExtractionError) as err:
        extract_file(path, LIMITS)
    assert str(path) in str(err.value)
    assert "corrupt or unreadable PDF" in err.value.reason
    assert "PDFium could not open it either" in err.value.reason


def test_a_long_pdf_cut_by_the_time_limit_keeps_its_pages_and_says_so(tmp_path: Path) -> None:
    path = write_pdf(tmp_path, "manual.pdf", [["x"]])
    limits = ExtractLimits(pdf_timeout_s=2.0, pdf_seconds_per_page=0.001)  # 4 s for 2,000 pages
    seen: list[tuple[int, int]] = []
    with PdfExtractor(limits, read_pages=workers.slow_pages) as pdf:
        parsed = pdf.extract(path, on_page=lambda n, total: seen.append((n, total)))
    kept = len(parsed.sections)
    assert 20 < kept < 2000
    assert [s.page for s in parsed.sections] == list(range(1, kept + 1))
    assert parsed.sections[-1].text == f"Page {kept} of the long manual, code C{kept:05}."
    assert parsed.partial.startswith(
        f"only pages 1-{kept:,} of 2,000 were read before the time limit"
    )
    assert "PDF time limit" in parsed.partial
    assert seen[:3] == [(1, 2000), (2, 2000), (3, 2000)] and seen[-1] == (kept, 2000)


def test_the_time_limit_grows_with_the_pages(tmp_path: Path) -> None:
    """300 pages at 50 a second take 6 s: three times the 2 s a fixed limit would give,
    well within 2 s + 0.05 s a page, so the whole manual is read."""
    path = write_pdf(tmp_path, "manual-300.pdf", [["x"]])
    limits = ExtractLimits(pdf_timeout_s=2.0, pdf_seconds_per_page=0.05)
    with PdfExtractor(limits, read_pages=workers.slow_pages) as pdf:
        parsed = pdf.extract(path)
    assert len(parsed.sections) == 300 and not parsed.partial


def test_pages_read_before_a_crash_are_kept(tmp_path: Path) -> None:
    path = write_pdf(tmp_path, "fragile.pdf", [["x"]])
    with PdfExtractor(LIMITS, read_pages=workers.crash_after_three_pages) as pdf:
        parsed = pdf.extract(path)
    assert [s.text for s in parsed.sections] == ["Kept page 1.", "Kept page 2.", "Kept page 3."]
    assert parsed.partial.startswith(
        "only pages 1-3 of 10 were read before the PDF extractor crashed"
    )
