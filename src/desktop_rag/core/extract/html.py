"""HTML to text with the stdlib parser: visible text only, h1-h6 give the heading path."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from desktop_rag.core.extract.base import Parsed, Part, from_parts

_HIDDEN = frozenset({"script", "style", "noscript", "head", "template", "svg", "iframe", "object"})
_BLOCKS = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
))  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_VOID = frozenset((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
))  # fmt: skip


def parse_html(text: str) -> Parsed:
    parser = _TextParser()
    parser.feed(text)
    parser.close()
    body, sections = from_parts(parser.finish())
    title = parser.title or next((s.heading_path[0] for s in sections if s.heading_path), None)
    return Parsed(body, sections, title)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: str | None = None
        self._parts: list[Part] = []
        self._buffer: list[str] = []
        self._path: list[tuple[int, str]] = []
        self._hidden_depth = 0
        self._pre_depth = 0
        self._in_title = False
        self._title_text: list[str] = []
        self._heading: tuple[int, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag == "body":
            # Browsers close an unterminated <head> here; so must we, or the page is lost.
            self._hidden_depth = 0
        if tag in _HIDDEN and tag not in _VOID:
            self._hidden_depth += 1
            return
        if self._hidden_depth:
            return
        if tag in _HEADINGS:
            self._flush()
            self._heading = (_HEADINGS[tag], [])
        elif tag == "pre":
            self._pre_depth += 1
        if tag in _BLOCKS or tag in _HEADINGS:
            self._newline()
        elif tag in ("td", "th") and self._buffer and not self._buffer[-1].endswith("\n"):
            self._buffer.append("\t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._hidden_depth and tag in ("br", "hr"):
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _HIDDEN and tag not in _VOID:
            self._hidden_depth = max(0, self._hidden_depth - 1)
            return
        if self._hidden_depth:
            return
        if tag in _HEADINGS and self._heading is not None:
            level, words = self._heading
            title = " ".join("".join(words).split())
            self._path = [(lvl, t) for lvl, t in self._path if lvl < level] + [(level, title)]
            self._heading = None
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        if tag in _BLOCKS or tag in _HEADINGS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_text.append(data)
        if self._hidden_depth:
            return
        if not self._pre_depth:
            data = re.sub(r"\s+", " ", data)
            if not self._buffer or self._buffer[-1].endswith(("\n", "\t")):
                data = data.lstrip(" ")
        if self._heading is not None:
            self._heading[1].append(data)
        self._buffer.append(data)

    def _newline(self) -> None:
        if self._buffer and not self._buffer[-1].endswith("\n"):
            self._buffer.append("\n")

    def _flush(self) -> None:
        text = "".join(self._buffer)
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n{3,}", "\n\n", text)
        self._parts.append(Part(text, tuple(t for _, t in self._path)))
        self._buffer = []

    def finish(self) -> list[Part]:
        self._flush()
        title = " ".join("".join(self._title_text).split())
        self.title = title or None
        return self._parts
