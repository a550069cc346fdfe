"""Small text helpers for rendering answers: clickable citations, snippets. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from desktop_rag.core.path_keys import display_path
from desktop_rag.core.rag.answers import SentenceSupport
from desktop_rag.core.rag.citations import outside_inline_code

_FENCE = re.compile(r"^(```|~~~)")
_CITATION = re.compile(r"\[(\d{1,3})\](?!\()")

SOURCE_SCHEME = "source"
UNSUPPORTED_SCHEME = "unsupported"
UNSUPPORTED_MARK = "⚠ not in the sources"
UNSUPPORTED_TIP = (
    "No passage given to the model says this. It may be made up: check it before relying on it."
)


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

    return outside_inline_code(line, lambda prose: _CITATION.sub(repl, prose))


def mark_sentences(
    markdown: str, sentences: Sequence[SentenceSupport], known: set[int], *, flag: bool = True
) -> str:
    """`link_citations`, plus: a supported sentence's first citation links to the span
    that supports it (`source:N:SENTENCE`), and an unsupported claim gets a visible mark.

    `sentences` carry offsets into `markdown` (the answer as saved); when they do not fit
    it (edited or older text), the answer is shown with plain citation links.
    """
    pieces: list[str] = []
    last = 0
    for index, sentence in enumerate(sentences):
        if sentence.start < last or sentence.end > len(markdown):
            return link_citations(markdown, known)
        pieces.append(markdown[last : sentence.start])
        body = markdown[sentence.start : sentence.end]
        if sentence.supported and sentence.sources and sentence.sources[0] in known:
            first = sentence.sources[0]
            body = body.replace(
                f"[{first}]", f"[\\[{first}\\]]({SOURCE_SCHEME}:{first}:{index})", 1
            )
        elif sentence.unsupported and flag:
            body += f" [{UNSUPPORTED_MARK}]({UNSUPPORTED_SCHEME}:{index})"
        pieces.append(body)
        last = sentence.end
    pieces.append(markdown[last:])
    return link_citations("".join(pieces), known)


def source_link(href: str) -> tuple[int, int | None] | None:
    """("source:3" | "source:3:SENTENCE") -> (3, sentence index or None); None otherwise."""
    scheme, _, rest = href.partition(":")
    if scheme != SOURCE_SCHEME:
        return None
    number, _, sentence = rest.partition(":")
    try:
        return int(number), int(sentence) if sentence else None
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
