"""Real-world PDFs from ../shared/corpus (skipped when that folder is absent)."""

from __future__ import annotations

import pytest

from desktop_rag.core.ingest.extract import ExtractionError, Extractor
from tests.conftest import shared_path
from tests.core.ingest.extract.checks import assert_well_formed


@pytest.fixture(scope="module")
def extractor():
    with Extractor() as shared:
        yield shared


def test_clinical_protocol_pages(extractor: Extractor) -> None:
    path = shared_path("corpus", "pdf", "docugami_nih_protocols", "NCT06145295_Prot_SAP_000.pdf")
    doc = extractor.extract(path)
    assert_well_formed(doc)
    assert [s.page for s in doc.sections] == [1, 2, 3, 4, 5, 6]
    assert doc.title == "data analysis plan" and doc.warnings == ()


def test_partly_imaged_protocol_warns(extractor: Extractor) -> None:
    path = shared_path("corpus", "pdf", "docugami_nih_protocols", "NCT06147739_Prot_SAP_000.pdf")
    doc = extractor.extract(path)
    assert_well_formed(doc)
    assert doc.warnings == ("page 13 has no text layer",)
    assert len(doc.sections) == 12


def test_accident_report_text(extractor: Extractor) -> None:
    doc = extractor.extract(shared_path("corpus", "pdf", "docugami_ntsb", "20080102X00002.pdf"))
    assert_well_formed(doc)
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert "National Transportation Safety Board" in doc.sections[0].text


def test_scanned_protocol_has_no_text_layer(extractor: Extractor) -> None:
    path = shared_path("corpus", "pdf", "docugami_nih_protocols", "NCT06155240_Prot_SAP_000.pdf")
    with pytest.raises(ExtractionError, match=r"no text layer \(scanned PDF\?\)"):
        extractor.extract(path)
