"""What every loader returns, and the two ways to build sections whose offsets hold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from desktop_rag.core.records import Section


class Unreadable(Exception):
    """A loader could not make text of the bytes; `reason` is written for a person."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Parsed:
    text: str
    sections: tuple[Section, ...]
    title: str | None = None
    warnings: tuple[str, ...] = ()
    partial: str = ""  # why only part of the file is here ("" when it was read whole)


@dataclass(frozen=True)
class Part:
    """A block of text still to be placed into a document."""

    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None


@dataclass(frozen=True)
class Span:
    """A slice `text[start:end]` of an existing document text."""

    start: int
    end: int
    heading_path: tuple[str, ...] = ()


def heading_spans(headings: Iterable[tuple[int, int, str]], end: int) -> list[Span]:
    """Cut `[0, end)` at each heading `(offset, level, title)`, in document order.

    Each span carries the titles of the headings above it: a heading closes every open
    heading of its level or deeper.
    """
    spans: list[Span] = []
    path: list[tuple[int, str]] = []
    previous = 0
    for offset, level, title in headings:
        spans.append(Span(previous, offset, tuple(t for _, t in path)))
        path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
        previous = offset
    spans.append(Span(previous, end, tuple(t for _, t in path)))
    return spans


def clean(text: str) -> str:
    """Make text safe to store: no NULs, no lone surrogates, "\\n" newlines only."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def from_parts(parts: Iterable[Part], sep: str = "\n\n") -> tuple[str, tuple[Section, ...]]:
    """Join non-blank parts with `sep`; each becomes one section at its offset."""
    pieces: list[str] = []
    sections: list[Section] = []
    offset = 0
    for part in parts:
        text = part.text.strip()
        if not text:
            continue
        if pieces:
            pieces.append(sep)
            offset += len(sep)
        sections.append(Section(text, offset, part.page, part.heading_path))
        pieces.append(text)
        offset += len(text)
    return "".join(pieces), tuple(sections)


def from_spans(text: str, spans: Iterable[Span]) -> tuple[Section, ...]:
    """Sections that are slices of `text`, trimmed of surrounding whitespace, blanks dropped."""
    sections = []
    for span in spans:
        chunk = text[span.start : span.end]
        stripped = chunk.strip()
        if not stripped:
            continue
        start = span.start + (len(chunk) - len(chunk.lstrip()))
        sections.append(Section(stripped, start, None, span.heading_path))
    return tuple(sections)


def whole(text: str) -> Parsed:
    """A document that is one section (plain text, source code)."""
    return Parsed(text, from_spans(text, [Span(0, len(text))]))
