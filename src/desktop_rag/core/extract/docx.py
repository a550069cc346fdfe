"""DOCX read straight from its XML: paragraphs, Heading 1-6 as the path, tables as TSV rows."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from xml.etree import ElementTree as ET

from desktop_rag.core.extract.base import Parsed, Part, Unreadable, from_parts
from desktop_rag.core.extract.reading import human_size

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_HEADING_NAME = re.compile(r"heading\s*([1-6])$", re.I)
_CONTAINERS = frozenset({W + "sdt", W + "sdtContent", W + "customXml", W + "ins", W + "smartTag"})


def parse_docx(data: bytes, max_xml_bytes: int) -> Parsed:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise Unreadable("corrupt DOCX: not a valid zip archive") from exc
    with archive:
        try:
            info = archive.getinfo("word/document.xml")
        except KeyError as exc:
            raise Unreadable("corrupt DOCX: word/document.xml is missing") from exc
        if info.file_size > max_xml_bytes:
            raise Unreadable(
                f"too large ({human_size(info.file_size)} of text XML, "
                f"limit {human_size(max_xml_bytes)})"
            )
        root = _read_xml(archive, "word/document.xml")
        levels = _heading_styles(archive)
        title = _core_title(archive)
    body = root.find(W + "body")
    if body is None:
        raise Unreadable("corrupt DOCX: the document has no body")

    parts: list[Part] = []
    lines: list[str] = []
    path: list[tuple[int, str]] = []
    for kind, element in _blocks(body):
        if kind == "tbl":
            lines.append(_table_text(element))
            continue
        text = _paragraph_text(element).strip()
        level = _paragraph_level(element, levels)
        if level and text:
            parts.append(Part("\n".join(lines), tuple(t for _, t in path)))
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, text)]
            lines = []
        elif title is None and text and _style_id(element).lower() == "title":
            title = text
        if text:
            lines.append(text)
    parts.append(Part("\n".join(lines), tuple(t for _, t in path)))
    text, sections = from_parts(parts)
    return Parsed(text, sections, title)


def _read_xml(archive: zipfile.ZipFile, name: str) -> ET.Element:
    try:
        return ET.fromstring(archive.read(name))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise Unreadable(f"corrupt DOCX: {name} cannot be unpacked") from exc
    except ET.ParseError as exc:
        raise Unreadable(f"corrupt DOCX: {name} is not valid XML ({exc})") from exc


def _heading_styles(archive: zipfile.ZipFile) -> dict[str, int]:
    """Style id -> heading level. Ids are localised ("berschrift1"), names are not."""
    if "word/styles.xml" not in archive.namelist():
        return {}
    try:
        root = _read_xml(archive, "word/styles.xml")
    except Unreadable:
        return {}
    levels: dict[str, int] = {}
    for style in root.iter(W + "style"):
        style_id = style.get(W + "styleId") or ""
        name = style.find(W + "name")
        match = _HEADING_NAME.match((name.get(W + "val") or "") if name is not None else "")
        outline = style.find(f"{W}pPr/{W}outlineLvl")
        outline_value = (outline.get(W + "val") or "") if outline is not None else ""
        if match:
            levels[style_id] = int(match.group(1))
        elif outline_value.isdigit() and int(outline_value) < 6:
            levels[style_id] = int(outline_value) + 1
    return levels


def _core_title(archive: zipfile.ZipFile) -> str | None:
    if "docProps/core.xml" not in archive.namelist():
        return None
    try:
        element = _read_xml(archive, "docProps/core.xml").find(_DC_TITLE)
    except Unreadable:
        return None
    if element is None:
        return None
    return (element.text or "").strip() or None


def _blocks(parent: ET.Element) -> Iterator[tuple[str, ET.Element]]:
    for child in parent:
        if child.tag == W + "p":
            yield "p", child
        elif child.tag == W + "tbl":
            yield "tbl", child
        elif child.tag in _CONTAINERS:
            yield from _blocks(child)


def _style_id(paragraph: ET.Element) -> str:
    style = paragraph.find(f"{W}pPr/{W}pStyle")
    return (style.get(W + "val") or "") if style is not None else ""


def _paragraph_level(paragraph: ET.Element, levels: dict[str, int]) -> int:
    style_id = _style_id(paragraph)
    if style_id in levels:
        return levels[style_id]
    outline = paragraph.find(f"{W}pPr/{W}outlineLvl")
    value = outline.get(W + "val") if outline is not None else None
    if value and value.isdigit() and int(value) < 6:
        return int(value) + 1
    match = re.fullmatch(r"heading([1-6])", style_id, re.I)
    return int(match.group(1)) if match else 0


def _paragraph_text(paragraph: ET.Element) -> str:
    out: list[str] = []
    for node in paragraph.iter():
        if node.tag == W + "t":
            out.append(node.text or "")
        elif node.tag == W + "tab":
            out.append("\t")
        elif node.tag in (W + "br", W + "cr"):
            out.append("\n")
        elif node.tag == W + "noBreakHyphen":
            out.append("-")
    return "".join(out)


def _table_text(table: ET.Element) -> str:
    rows = []
    for row in table.findall(W + "tr"):
        cells = [
            " ".join(" ".join(_paragraph_text(p).split()) for p in cell.iter(W + "p")).strip()
            for cell in row.findall(W + "tc")
        ]
        rows.append("\t".join(cells))
    return "\n".join(rows)
