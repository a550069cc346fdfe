"""Split text into sentences, with offsets. Pure.

Used on answers (attribution, the loop guard) and on passages (attribution's windows).
"""

from __future__ import annotations

import re

# A sentence ends at . ! or ? (and a closing quote or bracket) before white space, or at a
# line break after a colon. Lines are joined into blocks first: a block ends at a blank
# line and where a list item, heading, quote, table row or code fence starts; a heading,
# table row, underline or title line is a block of its own. Text wrapped at a fixed width
# (as passages often are, and as the model copies them) stays one sentence across lines.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?P<close>[\"'\u201d\u2019)\]]?)\s+|(?<=:)[ \t]*\n\s*")
_BLOCK_START = re.compile(r"[ \t]*(?:[-*+\u2022>]\s|\d{1,3}[.)]\s|```|~~~)")
_ONE_LINE = re.compile(r"[ \t]*(?:#{1,6}\s|\||[=\-~^*_]{3,}[ \t]*$)")
_LIST_NUMBER = re.compile(r"\d{1,3}[.)]")
# A list item's bullet or number at the start of a sentence ("- ", "3. ", a bare "5."), not
# the start of a number ("1.5 million").
LIST_MARKER = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])(?=\s|$)\s*")


TITLE_CHARS = 60  # wrapped text has longer lines; a shorter unpunctuated one is a title


def _title(line: str, following: str) -> bool:
    """A short line without closing punctuation, followed by a capitalised one: a title
    ("How to delete files\nYou can ..."), not a sentence wrapped across lines."""
    body = line.strip()
    return (
        0 < len(body) < TITLE_CHARS
        and not body.endswith((".", ",", ";", ":", "!", "?", "-"))
        and following.lstrip()[:1].isupper()
    )


def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each block of lines (see above)."""
    blocks: list[tuple[int, int]] = []
    start: int | None = None
    single = False  # the line before was a block of its own
    pos = 0
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        a = pos
        pos += len(line)
        if not line.strip():
            if start is not None:
                blocks.append((start, a))
            start = None
            continue
        one_line = bool(_ONE_LINE.match(line))
        if start is not None and (single or one_line or _BLOCK_START.match(line)):
            blocks.append((start, a))
            start = None
        if start is None:
            start = a
        following = lines[index + 1] if index + 1 < len(lines) else ""
        single = one_line or _title(line, following)
    if start is not None:
        blocks.append((start, pos))
    return blocks


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, stripped, empty ones left out."""
    spans = []
    for block_start, block_end in _blocks(text):
        start = block_start
        for end in _SENTENCE_END.finditer(text, block_start, block_end):
            spans.append((start, end.start() + len(end.group("close") or "")))
            start = end.end()
        spans.append((start, block_end))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        a, b = a + lead, a + len(piece.rstrip())
        if b <= a:
            continue
        if out and _LIST_NUMBER.fullmatch(text[out[-1][0] : out[-1][1]]):
            out[-1] = (out[-1][0], b)  # "1." before its item is not a sentence of its own
        else:
            out.append((a, b))
    return out
