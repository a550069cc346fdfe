"""Small text helpers for rendering answers: clickable citations, snippets. Pure functions."""

from __future__ import annotations

import re
from pathlib import Path

from desktop_rag.core.path_keys import display_path

_FENCE = re.compile(r"^(```|~~~)")
_CITATION = re.compile(r"\[(\d{1,3})\](?!\()")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")

SOURCE_SCHEME = "source"


def link_citations(markdown: str, known: set[int]) -> str:
    """Turn `[3]` into a link to source 3 when there is such a source, outside code."""
    if not known:
        return markdown
    out: list[str] = []
    in_fence = False
    for line in markdown.split("\n"):
        if _FENCE.match(line.lstrip()):
            in_fence = not in_fence
            out.append(line)
            continue
        if in_fence or line.startswith("    "):
            out.append(line)
            continue
        out.append(_link_line(line, known))
    return "\n".join(out)


def _link_line(line: str, known: set[int]) -> str:
    def repl(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if number not in known:
            return match.group(0)
        return f"[\\[{number}\\]]({SOURCE_SCHEME}:{number})"

    pieces, last = [], 0
    for code in _INLINE_CODE.finditer(line):  # leave `a[0]` in inline code alone
        pieces.append(_CITATION.sub(repl, line[last : code.start()]))
        pieces.append(code.group(0))
        last = code.end()
    pieces.append(_CITATION.sub(repl, line[last:]))
    return "".join(pieces)


def source_number(href: str) -> int | None:
    scheme, _, rest = href.partition(":")
    if scheme != SOURCE_SCHEME:
        return None
    try:
        return int(rest)
    except ValueError:
        return None


_RULES = re.compile(r"(?m)^\s*([=\-~^*#`])\1{2,}\s*$")  # heading underlines, fences, rules


def snippet(text: str, limit: int = 140) -> str:
    flat = " ".join(_RULES.sub(" ", text).split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def source_label(path: str, page: int | None) -> str:
    path = display_path(path)
    name = Path(path).name or path
    return f"{name}, page {page}" if page else name
