"""Find the [n] citations in an answer, drop the ones that point nowhere, pick the sources shown.

Pure. Small models cite in several shapes; we accept "[2]", "[1, 3]", "[1][2]", "[Source 2]"
and write the kept ones back as "[2]" / "[1, 3]".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from desktop_rag.core.rag.answers import Source

CITATION = re.compile(
    r"[ \t]*\[\s*(?:sources?\s*)?(\d+(?:\s*(?:,|;|and)\s*(?:sources?\s*)?\d+)*)\s*\]",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?])")


_INLINE_CODE = re.compile(r"(`+).+?\1")


def outside_inline_code(text: str, edit: Callable[[str], str]) -> str:
    """`text` with `edit` applied to the parts outside inline code: `a[0]` is no citation."""
    pieces, last = [], 0
    for code in _INLINE_CODE.finditer(text):
        pieces.append(edit(text[last : code.start()]))
        pieces.append(code.group(0))
        last = code.end()
    pieces.append(edit(text[last:]))
    return "".join(pieces)


def cited_numbers(text: str) -> list[int]:
    """Numbers cited in `text`, in order of first appearance, without repeats."""
    seen: dict[int, None] = {}
    for match in CITATION.finditer(text):
        for number in _NUMBER.findall(match.group(1)):
            seen.setdefault(int(number), None)
    return list(seen)


def clean_citations(text: str, valid: Iterable[int]) -> str:
    """Keep citations of `valid` numbers (normalised), remove the others."""
    allowed = set(valid)

    def keep(match: re.Match[str]) -> str:
        numbers = [n for n in dict.fromkeys(int(x) for x in _NUMBER.findall(match.group(1)))]
        kept = [str(n) for n in numbers if n in allowed]
        lead = " " if match.group(0)[:1] in (" ", "\t") else ""
        return f"{lead}[{', '.join(kept)}]" if kept else ""

    cleaned = CITATION.sub(keep, text)
    return _SPACE_BEFORE_PUNCT.sub(r"\1", cleaned)


def strip_citations(text: str) -> str:
    """Remove every citation (for old answers fed back as history, numbered differently)."""
    return clean_citations(text, ()).strip()


def attach_sources(
    text: str, provided: Sequence[Source]
) -> tuple[str, tuple[Source, ...], tuple[Source, ...]]:
    """(clean text, sources to show, all provided sources with `cited` set).

    Shown = the cited sources in number order, or every provided source when the model
    cited none (then all have cited=False, so the UI can say "not cited").
    """
    numbers = {s.number for s in provided}
    cited = set(cited_numbers(text)) & numbers
    flagged = tuple(replace(s, cited=s.number in cited) for s in provided)
    shown = tuple(s for s in flagged if s.cited) or flagged
    return clean_citations(text, numbers), shown, flagged
