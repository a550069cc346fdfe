"""Assertions every extracted document must pass, whatever its loader."""

from __future__ import annotations

from desktop_rag.core.records import Document


def assert_well_formed(doc: Document) -> None:
    """Offsets point at their text, sections are in order and do not overlap."""
    assert doc.text.strip(), "an extracted document has text"
    assert "\r" not in doc.text and "\x00" not in doc.text
    end = 0
    for section in doc.sections:
        assert doc.text[section.start : section.start + len(section.text)] == section.text
        assert section.start >= end, "sections overlap or are out of order"
        assert section.text.strip() == section.text and section.text
        end = section.start + len(section.text)


def section_for(doc: Document, phrase: str):
    """The one section containing `phrase`."""
    found = [s for s in doc.sections if phrase in s.text]
    assert len(found) == 1, f"{phrase!r} in {len(found)} sections"
    return found[0]
