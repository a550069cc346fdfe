"""reStructuredText: underlined (and overlined) titles give the heading path."""

from __future__ import annotations

import re

from desktop_rag.core.ingest.extract.base import Parsed, from_spans, heading_spans

_ADORNMENT = re.compile(r"""^([!-/:-@\[-`{-~])\1+[ \t]*$""")


def parse_rst(text: str) -> Parsed:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    styles: list[tuple[str, bool]] = []  # heading styles in order of first use = levels
    headings: list[tuple[int, int, str]] = []  # (offset, level, title)
    i = 0
    while i < len(lines) - 1:
        found = _heading_at(lines, i)
        if found is None:
            i += 1
            continue
        start_line, title, style, consumed = found
        if style not in styles:
            styles.append(style)
        headings.append((offsets[start_line], styles.index(style) + 1, title))
        i = start_line + consumed

    spans = heading_spans(headings, len(text))
    doc_title = headings[0][2] if headings else None
    return Parsed(text, from_spans(text, spans), doc_title)


def _heading_at(lines: list[str], i: int) -> tuple[int, str, tuple[str, bool], int] | None:
    """(first line, title, style, lines used) when a section title starts at line `i`."""
    over = _ADORNMENT.match(lines[i])
    if over and i + 2 < len(lines):
        title = lines[i + 1].strip()
        under = _ADORNMENT.match(lines[i + 2])
        if title and under and under.group(1) == over.group(1) and not _ADORNMENT.match(title):
            return i, title, (over.group(1), True), 3
    title_line = lines[i]
    under = _ADORNMENT.match(lines[i + 1])
    if (
        under
        and title_line.strip()
        and not title_line[0].isspace()
        and not _ADORNMENT.match(title_line)
        and len(lines[i + 1].rstrip()) >= len(title_line.rstrip())
    ):
        return i, title_line.strip(), (under.group(1), False), 2
    return None
