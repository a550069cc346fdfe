"""HTML to text: visible text only, h1-h6 give the heading path.

The page is parsed by Lexbor (through selectolax), an HTML5-conformant parser: the tree is
what a browser builds, optional tags (`</head>`, `<body>`, `</p>`, `</li>` ...) left out or
not. The tree is then walked into text: blocks become lines, table cells tab-separated
columns, `<pre>` keeps its spaces, and scripts, styles and the head stay out.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from desktop_rag.core.ingest.extract.base import Parsed, Part, from_parts

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
    tree = LexborHTMLParser(text)
    walker = _TextWalker()
    if tree.body is not None:
        walker.walk(tree.body)
    title_node = tree.css_first("title")
    title: str | None = " ".join(title_node.text().split()) if title_node is not None else ""
    body, sections = from_parts(walker.finish())
    title = title or next((s.heading_path[0] for s in sections if s.heading_path), None)
    return Parsed(body, sections, title or None)


class _TextWalker:
    """Turns the parsed tree into parts: the tags and text of the body, in document order."""

    def __init__(self) -> None:
        self._parts: list[Part] = []
        self._buffer: list[str] = []
        self._path: list[tuple[int, str]] = []
        self._hidden_depth = 0
        self._pre_depth = 0
        self._heading: tuple[int, list[str]] | None = None

    def walk(self, root: LexborNode) -> None:
        """Depth first, without recursion: pages nest thousands of elements deep."""
        stack = [(root.tag or "", iter(root.iter(include_text=True)))]
        while stack:
            child = next(stack[-1][1], None)
            if child is None:
                tag, _ = stack.pop()
                if stack:
                    self.handle_endtag(tag)
                continue
            tag = child.tag or ""
            if tag == "-text":
                self.handle_data(child.text(deep=False))
            elif tag.startswith("-"):  # comments, doctype
                continue
            elif tag in _VOID:
                self.handle_startendtag(tag)
            else:
                self.handle_starttag(tag)
                stack.append((tag, iter(child.iter(include_text=True))))

    def handle_starttag(self, tag: str) -> None:
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

    def handle_startendtag(self, tag: str) -> None:
        if not self._hidden_depth and tag in ("br", "hr"):
            self._newline()

    def handle_endtag(self, tag: str) -> None:
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
        return self._parts
