"""The text a person would type, from the text a file holds, with a map back. Pure.

Extracted text carries things that make search miss: soft hyphens and zero-width spaces
inside words (`Ge\\u00adsamt\\u00adkon\\u00adzept` is not the word "Gesamtkonzept" to a
keyword index), typographic ligatures (`ﬁnal` is not "final"), and binary payloads pasted
into text formats (a `data:image/png;base64,…` image in a Markdown note, base64 and hex
dumps), which become hundreds of chunks of noise that outrank the prose around them.

`clean_for_index(text)` removes the first, expands the second and replaces the third with a
short placeholder, and returns an `OffsetMap` so that a chunk cut from the clean text still
cites the right place in the original (`Chunk.start`/`end` are offsets into the document's
own text).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

# Invisible in the rendered text: soft hyphen, zero-width space, word joiner, zero-width
# no-break space (a BOM inside the text). ZWJ/ZWNJ stay: they change words in Persian,
# Indic scripts and emoji.
_INVISIBLE = "\u00ad\u200b\u2060\ufeff"
# Latin ligatures (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ), spelled out as their letters.
_LIGATURES = {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFB00, 0xFB07)}
_BASE64_LINE = r"[A-Za-z0-9+/]{40,}={0,2}"
_PATTERN = re.compile(
    "|".join(
        (
            # data: URIs with a base64 payload (Markdown images, HTML, CSS, JSON)
            r"(?P<datauri>data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w.+-]+=[\w.+-]+)*;base64,"
            r"[A-Za-z0-9+/=\s]{64,})",
            # base64 without a data: prefix: one long run, or wrapped lines (PEM, e-mail)
            rf"(?P<base64>(?<![A-Za-z0-9+/])(?:[A-Za-z0-9+/]{{200,}}={{0,2}}"
            rf"|{_BASE64_LINE}(?:[ \t]*\r?\n[ \t]*{_BASE64_LINE}){{3,}})(?![A-Za-z0-9+/]))",
            # hex dumps: 128 or more byte pairs, maybe spaced ("de ad be ef" or "deadbeef")
            r"(?P<hex>(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){128,}(?![0-9A-Fa-f]))",
            rf"(?P<invisible>[{_INVISIBLE}]+)",
            f"(?P<ligature>[{''.join(_LIGATURES)}])",
        )
    )
)


@dataclass(frozen=True)
class OffsetMap:
    """Maps offsets in the clean text back to the original. Breakpoints only: where the two
    differ, `clean[i]` at or after `cuts[k]` is `original[i + shifts[k]]` (clamped inside a
    replacement, whose clean characters all map to its original start)."""

    cuts: tuple[int, ...] = ()
    shifts: tuple[int, ...] = ()
    spans: tuple[tuple[int, int, int], ...] = ()  # (clean start, clean end, original start)

    def to_original(self, i: int) -> int:
        k = bisect_right(self.cuts, i) - 1
        if k < 0:
            return i
        start, end, orig = self.spans[k]
        if start <= i < end:  # inside a replacement
            return orig
        return i + self.shifts[k]


IDENTITY = OffsetMap()


def clean_for_index(text: str) -> tuple[str, OffsetMap]:
    """(clean text, map from clean offsets to `text`'s). Unchanged text maps to itself."""
    if not _PATTERN.search(text):
        return text, IDENTITY
    pieces: list[str] = []
    cuts: list[int] = []
    shifts: list[int] = []
    spans: list[tuple[int, int, int]] = []
    last = 0  # in the original
    clean_len = 0
    for m in _PATTERN.finditer(text):
        pieces.append(text[last : m.start()])
        clean_len += m.start() - last
        replacement = _replacement(m)
        pieces.append(replacement)
        start = clean_len
        clean_len += len(replacement)
        # From the end of this replacement on, clean + shift = original.
        cuts.append(start)
        shifts.append(m.end() - clean_len)
        spans.append((start, clean_len, m.start()))
        last = m.end()
    pieces.append(text[last:])
    return "".join(pieces), OffsetMap(tuple(cuts), tuple(shifts), tuple(spans))


def clean_words(text: str) -> str:
    """Just the clean text (headings, titles, queries)."""
    return clean_for_index(text)[0]


def _replacement(m: re.Match[str]) -> str:
    if m.group("invisible") is not None:
        return ""
    if m.group("ligature") is not None:
        return _LIGATURES[m.group("ligature")]
    if m.group("datauri") is not None:
        mime = (m.group("mime") or "").lower()
        kind = mime.split("/")[0] if mime else "data"
        label = {"image": "image", "audio": "audio", "video": "video", "font": "font"}
        return f"[embedded {label.get(kind, 'data')}]"
    if m.group("hex") is not None:
        return "[hex data]"
    return "[encoded data]"
