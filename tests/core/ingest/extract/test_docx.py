from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from desktop_rag.core.ingest.extract import ExtractionError, extract_file
from desktop_rag.core.ingest.extract.docx import parse_docx
from tests.core.ingest.extract.checks import assert_well_formed, section_for
from tests.core.ingest.extract.filegen import make_docx, make_word_docx


def test_paragraphs_headings_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(
        make_docx(
            [
                ("title", "Annual Report"),
                ("p", "Opening remarks & thanks."),
                ("h1", "Finance"),
                ("p", "Revenue grew by nine percent."),
                ("h2", "Costs"),
                ("table", [["Item", "Amount"], ["Rent", "1200"], ["Power", "300"]]),
                ("p", "Tab\tseparated"),
                ("h1", "Outlook"),
                ("p", "We expect steady growth."),
            ],
            title="Report 2024",
        )
    )
    doc = extract_file(path)
    assert_well_formed(doc)
    assert doc.kind == "docx" and doc.title == "Report 2024"
    assert section_for(doc, "Opening remarks & thanks.").heading_path == ()
    assert section_for(doc, "nine percent").heading_path == ("Finance",)
    costs = section_for(doc, "Rent")
    assert costs.heading_path == ("Finance", "Costs")
    assert "Item\tAmount\nRent\t1200\nPower\t300" in costs.text and "Tab\tseparated" in costs.text
    assert section_for(doc, "steady growth").heading_path == ("Outlook",)


def test_title_style_is_the_fallback_title(tmp_path: Path) -> None:
    path = tmp_path / "t.docx"
    path.write_bytes(make_docx([("title", "Styled Title"), ("p", "Body.")]))
    assert extract_file(path).title == "Styled Title"


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a zip at all", "corrupt DOCX: not a valid zip archive"),
        (_zip({"hello.txt": b"hi"}), "corrupt DOCX: word/document.xml is missing"),
        (
            _zip({"word/document.xml": b"<w:document><unclosed>"}),
            "corrupt DOCX: word/document.xml is not valid XML",
        ),
        (make_docx([("p", "some words here")])[:200], "corrupt DOCX"),
    ],
)
def test_corrupt_docx(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "bad.docx"
    path.write_bytes(data)
    with pytest.raises(ExtractionError, match="corrupt DOCX") as info:
        extract_file(path)
    assert reason in info.value.reason


WORD_BODY = ["The orchard report counts forty quince trees.", "Harvest starts in October."]
WORD_PARTS = {
    "header": "Acme Orchards confidential",
    "footer": "Printed by the estate office",
    "footnotes": ["Counted by the warden in March."],
    "endnotes": ["See the 2019 survey for older figures."],
}


@pytest.mark.parametrize(
    "layout",
    [{}, {"strict": True}, {"backslashes": True}, {"strict": True, "backslashes": True}],
    ids=["transitional", "strict", "backslashes", "strict-backslashes"],
)
def test_word_documents_read_as_word_shows_them(layout):
    """Headers, footers, footnotes and endnotes are part of what a person reads; Strict
    Open XML and backslashed zip entries are files Word opens."""
    parsed = parse_docx(make_word_docx(WORD_BODY, **WORD_PARTS, **layout), 10_000_000)
    assert parsed.text.split("\n\n") == [
        "Acme Orchards confidential",
        "The orchard report counts forty quince trees.\nHarvest starts in October.",
        "Footnote 1: Counted by the warden in March.",
        "Endnote 1: See the 2019 survey for older figures.",
        "Printed by the estate office",
    ]
