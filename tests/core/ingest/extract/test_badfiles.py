"""The shared good/bad folders give exactly the outcomes they promise to other tests."""

from __future__ import annotations

from pathlib import Path

from desktop_rag.core.ingest.extract import ExtractionError, Extractor, is_supported
from tests.core.ingest.extract.badfiles import (
    BAD_FILES_LIMITS,
    CAN_DENY_PERMISSION,
    GBK_NAME,
    GBK_PHRASE,
    GOOD_PDF_NAME,
    GOOD_PDF_PAGES,
    make_bad_files,
    make_good_files,
)
from tests.core.ingest.extract.checks import assert_well_formed, section_for


def test_bad_files_fail_with_their_reasons(tmp_path: Path) -> None:
    reasons = make_bad_files(tmp_path)
    assert ("private.txt" in reasons) == CAN_DENY_PERMISSION
    assert len(reasons) >= 9
    with Extractor(BAD_FILES_LIMITS) as extractor:
        for name, expected in reasons.items():
            assert is_supported(tmp_path / name)
            try:
                extractor.extract(tmp_path / name)
            except ExtractionError as exc:
                assert expected in exc.reason, (name, exc.reason)
            else:
                raise AssertionError(f"{name} was extracted but should fail: {expected}")
        gbk = extractor.extract(tmp_path / GBK_NAME)
    assert GBK_PHRASE in gbk.text


def test_good_files_contain_their_phrases(tmp_path: Path) -> None:
    phrases = make_good_files(tmp_path)
    assert {Path(n).suffix for n in phrases} == {".md", ".txt", ".html", ".docx", ".rst", ".pdf"}
    with Extractor(BAD_FILES_LIMITS) as extractor:
        docs = {name: extractor.extract(tmp_path / name) for name in phrases}
    for name, phrase in phrases.items():
        assert_well_formed(docs[name])
        assert phrase in docs[name].text, name
    pdf = docs[GOOD_PDF_NAME]
    for page, phrase in GOOD_PDF_PAGES.items():
        assert section_for(pdf, phrase).page == page
