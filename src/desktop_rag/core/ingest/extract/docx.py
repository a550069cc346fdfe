"""DOCX read straight from its XML, as Word shows it: the header, the body (Heading 1-6 as
the path, tables as tab-separated rows), footnotes, endnotes and the footer.

Read by hand rather than with python-docx or docx2python: measured on files of the kinds
that break readers (tests/core/ingest/extract/test_docx.py), python-docx read one of four kinds
(no footnotes or endnotes, no Strict Open XML, no backslashes in zip entry names) and
docx2python three (not the backslashes), without the heading paths our chunks carry.

- Parts are found through the package's relationships, as Word finds them, not by name.
- Zip entry names written with backslashes (some Windows tools) are read with slashes.
- Transitional and Strict Open XML differ in namespaces only: the reader takes the one the
  document's root element uses.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from xml.etree import ElementTree as ET

from desktop_rag.core.ingest.extract.base import Parsed, Part, Unreadable, from_parts
from desktop_rag.core.ingest.extract.reading import human_size

_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_HEADING_NAME = re.compile(r"heading\s*([1-6])$", re.I)
_SEPARATORS = {"separator", "continuationSeparator", "continuationNotice"}


def parse_docx(data: bytes, max_xml_bytes: int) -> Parsed:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise Unreadable("corrupt DOCX: not a valid zip archive") from exc
    with archive:
        return _Package(archive, max_xml_bytes).parse()


class _Package:
    def __init__(self, archive: zipfile.ZipFile, max_xml_bytes: int):
        self.archive = archive
        self.max_xml_bytes = max_xml_bytes
        # Entry names as Word reads them: "word\document.xml" is "word/document.xml".
        self.names = {i.filename.replace("\\", "/").lstrip("/"): i for i in archive.infolist()}
        self.w = ""  # "{namespace}" of the document's WordprocessingML (Transitional or Strict)

    def parse(self) -> Parsed:
        package_rels = self._rels("")
        main = _target(package_rels, "/officeDocument") or "word/document.xml"
        if main not in self.names:
            raise Unreadable(f"corrupt DOCX: {main} is missing")
        info = self.names[main]
        if info.file_size > self.max_xml_bytes:
            raise Unreadable(
                f"too large ({human_size(info.file_size)} of text XML, "
                f"limit {human_size(self.max_xml_bytes)})"
            )
        root = self._xml(main)
        self.w = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        body = root.find(self.w + "body")
        if body is None:
            raise Unreadable("corrupt DOCX: the document has no body")
        rels = self._rels(main)
        levels = self._heading_styles(_target(rels, "/styles"))
        title = self._core_title(_target(package_rels, "/core-properties"))

        parts: list[Part] = []
        parts += [Part(t) for t in self._story_texts(_targets(rels, "/header"))]
        body_parts, title = self._body(body, levels, title)
        parts += body_parts
        for kind in ("footnote", "endnote"):
            notes = self._notes(_target(rels, f"/{kind}s"), kind)
            if notes:
                parts.append(Part("\n".join(notes)))
        parts += [Part(t) for t in self._story_texts(_targets(rels, "/footer"))]
        text, sections = from_parts(parts)
        return Parsed(text, sections, title)

    # -- the package --------------------------------------------------------------------

    def _xml(self, name: str) -> ET.Element:
        try:
            return ET.fromstring(self.archive.read(self.names[name]))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise Unreadable(f"corrupt DOCX: {name} cannot be unpacked") from exc
        except ET.ParseError as exc:
            raise Unreadable(f"corrupt DOCX: {name} is not valid XML ({exc})") from exc

    def _optional_xml(self, name: str | None) -> ET.Element | None:
        if not name or name not in self.names:
            return None
        try:
            return self._xml(name)
        except Unreadable:  # a broken side part costs that part, not the document
            return None

    def _rels(self, part: str) -> list[tuple[str, str]]:
        """(type, target part name) of a part's relationships ("" for the package's)."""
        folder, name = posixpath.split(part)
        root = self._optional_xml(posixpath.join(folder, "_rels", f"{name}.rels"))
        if root is None:
            return []
        out = []
        for rel in root.iter(_REL):
            target = (rel.get("Target") or "").replace("\\", "/")
            if rel.get("TargetMode") == "External" or not target:
                continue
            resolved = (
                target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            )
            out.append((rel.get("Type") or "", posixpath.normpath(resolved)))
        return out

    # -- the stories --------------------------------------------------------------------

    def _body(
        self, body: ET.Element, levels: dict[str, int], title: str | None
    ) -> tuple[list[Part], str | None]:
        parts: list[Part] = []
        lines: list[str] = []
        path: list[tuple[int, str]] = []
        for kind, element in self._blocks(body):
            if kind == "tbl":
                lines.append(self._table_text(element))
                continue
            text = self._paragraph_text(element).strip()
            level = self._paragraph_level(element, levels)
            if level and text:
                parts.append(Part("\n".join(lines), tuple(t for _, t in path)))
                path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, text)]
                lines = []
            elif title is None and text and self._style_id(element).lower() == "title":
                title = text
            if text:
                lines.append(text)
        parts.append(Part("\n".join(lines), tuple(t for _, t in path)))
        return parts, title

    def _story_texts(self, names: list[str]) -> list[str]:
        """Headers or footers: each distinct text once (Word repeats them on every page)."""
        texts: list[str] = []
        for name in names:
            root = self._optional_xml(name)
            if root is None:
                continue
            lines = [self._text_of(kind, el) for kind, el in self._blocks(root)]
            text = "\n".join(line for line in lines if line)
            if text and text not in texts:
                texts.append(text)
        return texts

    def _notes(self, name: str | None, kind: str) -> list[str]:
        """ "Footnote 1: …" lines, numbered in order as Word numbers them."""
        root = self._optional_xml(name)
        if root is None:
            return []
        notes: list[str] = []
        for note in root.iter(self.w + kind):
            if note.get(self.w + "type") in _SEPARATORS:
                continue
            lines = [self._text_of(k, el) for k, el in self._blocks(note)]
            text = " ".join(line for line in lines if line)
            if text:
                notes.append(f"{kind.capitalize()} {len(notes) + 1}: {text}")
        return notes

    def _text_of(self, kind: str, element: ET.Element) -> str:
        return self._table_text(element) if kind == "tbl" else self._paragraph_text(element).strip()

    def _blocks(self, parent: ET.Element) -> Iterator[tuple[str, ET.Element]]:
        w = self.w
        containers = {w + "sdt", w + "sdtContent", w + "customXml", w + "ins", w + "smartTag"}
        for child in parent:
            if child.tag == w + "p":
                yield "p", child
            elif child.tag == w + "tbl":
                yield "tbl", child
            elif child.tag in containers:
                yield from self._blocks(child)

    # -- paragraphs ---------------------------------------------------------------------

    def _style_id(self, paragraph: ET.Element) -> str:
        style = paragraph.find(f"{self.w}pPr/{self.w}pStyle")
        return (style.get(self.w + "val") or "") if style is not None else ""

    def _paragraph_level(self, paragraph: ET.Element, levels: dict[str, int]) -> int:
        style_id = self._style_id(paragraph)
        if style_id in levels:
            return levels[style_id]
        outline = paragraph.find(f"{self.w}pPr/{self.w}outlineLvl")
        value = outline.get(self.w + "val") if outline is not None else None
        if value and value.isdigit() and int(value) < 6:
            return int(value) + 1
        match = re.fullmatch(r"heading([1-6])", style_id, re.I)
        return int(match.group(1)) if match else 0

    def _paragraph_text(self, paragraph: ET.Element) -> str:
        w = self.w
        out: list[str] = []
        for node in paragraph.iter():
            if node.tag == w + "t":
                out.append(node.text or "")
            elif node.tag == w + "tab":
                out.append("\t")
            elif node.tag in (w + "br", w + "cr"):
                out.append("\n")
            elif node.tag == w + "noBreakHyphen":
                out.append("-")
        return "".join(out)

    def _table_text(self, table: ET.Element) -> str:
        rows = []
        for row in table.findall(self.w + "tr"):
            cells = [
                " ".join(" ".join(self._paragraph_text(p).split()) for p in cell.iter(self.w + "p"))
                for cell in row.findall(self.w + "tc")
            ]
            rows.append("\t".join(c.strip() for c in cells))
        return "\n".join(rows)

    # -- styles and properties ----------------------------------------------------------

    def _heading_styles(self, name: str | None) -> dict[str, int]:
        """Style id -> heading level. Ids are localised ("berschrift1"), names are not."""
        root = self._optional_xml(name or "word/styles.xml")
        if root is None:
            return {}
        w = self.w
        levels: dict[str, int] = {}
        for style in root.iter(w + "style"):
            style_id = style.get(w + "styleId") or ""
            style_name = style.find(w + "name")
            name_value = (style_name.get(w + "val") or "") if style_name is not None else ""
            match = _HEADING_NAME.match(name_value)
            outline = style.find(f"{w}pPr/{w}outlineLvl")
            outline_value = (outline.get(w + "val") or "") if outline is not None else ""
            if match:
                levels[style_id] = int(match.group(1))
            elif outline_value.isdigit() and int(outline_value) < 6:
                levels[style_id] = int(outline_value) + 1
        return levels

    def _core_title(self, name: str | None) -> str | None:
        root = self._optional_xml(name or "docProps/core.xml")
        element = root.find(_DC_TITLE) if root is not None else None
        if element is None:
            return None
        return (element.text or "").strip() or None


def _targets(rels: list[tuple[str, str]], type_suffix: str) -> list[str]:
    """Relationship targets whose type ends with `type_suffix` (Transitional or Strict)."""
    return [target for kind, target in rels if kind.endswith(type_suffix)]


def _target(rels: list[tuple[str, str]], type_suffix: str) -> str | None:
    found = _targets(rels, type_suffix)
    return found[0] if found else None
