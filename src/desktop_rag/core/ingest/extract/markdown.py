"""Markdown stays markdown: front matter is lifted off, sections split at headings."""

from __future__ import annotations

import re

from desktop_rag.core.ingest.extract.base import Parsed, Span, from_spans, heading_spans

_FRONT_MATTER = (
    re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S),
    re.compile(r"\A\+\+\+[ \t]*\n(.*?\n)?\+\+\+[ \t]*(?:\n|\Z)", re.S),
)
_TITLE = re.compile(r"^title[ \t]*[:=][ \t]*(.+?)[ \t]*$", re.M)
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^ {0,3}(?:[-*+>]|\d+[.)]|#|`{3}|~{3}|\|)")


def parse_markdown(text: str) -> Parsed:
    title, body_start = _front_matter(text)
    body = text[body_start:]
    spans, first_h1 = _heading_spans(body)
    return Parsed(body, from_spans(body, spans), title or first_h1)


def _front_matter(text: str) -> tuple[str | None, int]:
    for pattern in _FRONT_MATTER:
        match = pattern.match(text)
        if match:
            found = _TITLE.search(match.group(1) or "")
            title = found.group(1).strip("\"'") if found else None
            return title or None, match.end()
    return None, 0


def _heading_spans(body: str) -> tuple[list[Span], str | None]:
    """Split `body` where a heading starts; each span carries the path of headings above it."""
    lines = body.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    headings: list[tuple[int, int, str]] = []  # (offset, level, title)
    fence: str | None = None
    for i, line in enumerate(lines):
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        atx = _ATX.match(line)
        if atx:
            headings.append((offsets[i], len(atx.group(1)), (atx.group(2) or "").strip()))
            continue
        setext = _SETEXT.match(line)
        if setext and i > 0 and _is_setext_title(lines[i - 1], headings, offsets[i - 1]):
            level = 1 if setext.group(1)[0] == "=" else 2
            headings.append((offsets[i - 1], level, lines[i - 1].strip()))

    spans = heading_spans(headings, len(body))
    first_h1 = next((t for _, lvl, t in headings if lvl == 1 and t), None)
    return spans, first_h1


def _is_setext_title(line: str, headings: list[tuple[int, int, str]], offset: int) -> bool:
    """A lone paragraph line above `===`/`---`; `---` after a blank line is a rule instead."""
    if not line.strip() or _NOT_PARAGRAPH.match(line):
        return False
    return not headings or headings[-1][0] != offset
