"""Real PDF and DOCX files written from scratch, so tests need no binary fixtures."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape


def make_pdf(
    pages: Sequence[Sequence[str] | None],
    title: str | None = None,
    *,
    fields: dict[int, Sequence[tuple[str, str, str, float]]] | None = None,
    catalog_extra: bytes = b"",
) -> bytes:
    """A valid PDF: one Helvetica text line per string; a None/empty page draws only a line.

    `fields`: page index -> form fields (kind "Tx" or "Btn", name, value, y position) as an
    AcroForm with values and no appearance streams (filled in, not flattened).
    `catalog_extra`: raw entries added to the document catalog.
    """
    fields = fields or {}
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    per_page = [2 + len(fields.get(i, ())) for i in range(len(pages))]
    pages_id = len(objects) + 1 + sum(per_page)
    kids = []
    field_refs: list[int] = []
    for index, lines in enumerate(pages):
        if lines:
            ops = [b"BT /F1 12 Tf 72 720 Td 16 TL"]
            for line in lines:
                ops.append(b"(" + _pdf_string(line) + b") Tj T*")
            ops.append(b"ET")
        else:
            ops = [b"0.5 w 72 72 m 300 300 l S"]  # ink but no text, like a scanned page
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        page_fields = fields.get(index, ())
        page_id = content + 1
        annot_ids = [page_id + 1 + i for i in range(len(page_fields))]
        annots = b""
        if annot_ids:
            annots = b" /Annots [%s]" % b" ".join(b"%d 0 R" % a for a in annot_ids)
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R%s >>"
                % (pages_id, font, content, annots)
            )
        )
        for kind, name, value, y in page_fields:
            v = b"/" + value.encode() if kind == "Btn" else b"(" + _pdf_string(value) + b")"
            field_refs.append(
                add(
                    b"<< /Type /Annot /Subtype /Widget /FT /%s /T (%s) /V %s "
                    b"/Rect [72 %d 400 %d] /P %d 0 R /F 4 >>"
                    % (kind.encode(), _pdf_string(name), v, int(y), int(y) + 14, page_id)
                )
            )
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))) == pages_id
    form = b""
    if field_refs:
        form = b" /AcroForm << /Fields [%s] >>" % b" ".join(b"%d 0 R" % r for r in field_refs)
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R%s%s >>" % (
        pages_id,
        form,
        catalog_extra,
    )
    info = add(b"<< /Title (" + _pdf_string(title) + b") >>") if title else None

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = b"trailer\n<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out.write(trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def encrypt_pdf(data: bytes, user_password: str, algorithm: str = "RC4-128") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def make_docx(blocks: Sequence[tuple[str, object]], title: str | None = None) -> bytes:
    """Blocks: ("p", text), ("h1".."h6", text), ("title", text), ("table", [[cell, ...], ...]).

    Heading styles use a localised id ("berschrift2", as German Word writes) whose style
    name is "heading 2", so the loader must resolve styles.xml rather than trust ids.
    """
    body = []
    for kind, value in blocks:
        if kind == "table":
            rows = "".join(
                "<w:tr>" + "".join(f"<w:tc>{_para(str(c))}</w:tc>" for c in row) + "</w:tr>"
                for row in value  # type: ignore[attr-defined]
            )
            body.append(f"<w:tbl>{rows}</w:tbl>")
        elif kind.startswith("h"):
            body.append(_para(str(value), f"berschrift{kind[1:]}"))
        elif kind == "title":
            body.append(_para(str(value), "Title"))
        else:
            body.append(_para(str(value)))
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}">'
        f"<w:body>{''.join(body)}<w:sectPr/></w:body></w:document>"
    )
    styles = "".join(
        f'<w:style w:type="paragraph" w:styleId="berschrift{n}"><w:name w:val="heading {n}"/>'
        f"</w:style>"
        for n in range(1, 7)
    )
    styles_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{_W}">{styles}</w:styles>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", document)
        archive.writestr("word/styles.xml", styles_xml)
        if title:
            archive.writestr(
                "docProps/core.xml",
                '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://'
                'schemas.openxmlformats.org/package/2006/metadata/core-properties" '
                f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{escape(title)}</dc:title>'
                "</cp:coreProperties>",
            )
    return out.getvalue()


def _para(text: str, style: str | None = None) -> str:
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    runs = []
    for i, piece in enumerate(text.split("\t")):
        if i:
            runs.append("<w:tab/>")
        runs.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:p>{props}<w:r>{''.join(runs)}</w:r></w:p>"


TRANSITIONAL = {
    "w": _W,
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
STRICT = {  # ISO 29500 Strict, what Word's "Strict Open XML Document" writes
    "w": "http://purl.oclc.org/ooxml/wordprocessingml/main",
    "r": "http://purl.oclc.org/ooxml/officeDocument/relationships",
    "rel": "http://purl.oclc.org/ooxml/officeDocument/relationships",
}


def make_word_docx(
    body: Sequence[str],
    *,
    header: str = "",
    footer: str = "",
    footnotes: Sequence[str] = (),
    endnotes: Sequence[str] = (),
    strict: bool = False,
    backslashes: bool = False,
) -> bytes:
    """A DOCX shaped as Word writes one: relationships for every part, a header and footer
    referenced from the section, footnote and endnote references in the first paragraph.
    `strict`: Strict Open XML namespaces; `backslashes`: zip entry names with "\\" (as some
    Windows tools write them)."""
    ns = STRICT if strict else TRANSITIONAL
    w, r, rel = ns["w"], ns["r"], ns["rel"]
    refs = "".join(
        f'<w:r><w:footnoteReference w:id="{i + 1}"/></w:r>' for i in range(len(footnotes))
    ) + "".join(f'<w:r><w:endnoteReference w:id="{i + 1}"/></w:r>' for i in range(len(endnotes)))
    paras = [
        f'<w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>{refs if i == 0 else ""}'
        "</w:p>"
        for i, text in enumerate(body)
    ]
    sect = ""
    if header:
        sect += '<w:headerReference w:type="default" r:id="rIdH"/>'
    if footer:
        sect += '<w:footerReference w:type="default" r:id="rIdF"/>'
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{w}" xmlns:r="{r}"><w:body>{"".join(paras)}'
        f"<w:sectPr>{sect}</w:sectPr></w:body></w:document>"
    )
    parts = {"word/document.xml": document}
    targets = []
    if header:
        parts["word/header1.xml"] = f'<w:hdr xmlns:w="{w}" xmlns:r="{r}">{_para(header)}</w:hdr>'
        targets.append(("rIdH", "header", "header1.xml"))
    if footer:
        parts["word/footer1.xml"] = f'<w:ftr xmlns:w="{w}" xmlns:r="{r}">{_para(footer)}</w:ftr>'
        targets.append(("rIdF", "footer", "footer1.xml"))
    for kind, notes in (("footnote", footnotes), ("endnote", endnotes)):
        if notes:
            separator = "<w:p><w:r><w:separator/></w:r></w:p>"
            items = f'<w:{kind} w:type="separator" w:id="-1">{separator}</w:{kind}>' + "".join(
                f'<w:{kind} w:id="{i + 1}">{_para(text)}</w:{kind}>' for i, text in enumerate(notes)
            )
            parts[f"word/{kind}s.xml"] = (
                f'<w:{kind}s xmlns:w="{w}" xmlns:r="{r}">{items}</w:{kind}s>'
            )
            targets.append((f"rId{kind}", f"{kind}s", f"{kind}s.xml"))
    doc_rels = "".join(
        f'<Relationship Id="{rid}" Type="{rel}/{kind}" Target="{target}"/>'
        for rid, kind, target in targets
    )
    parts["word/_rels/document.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships">{doc_rels}</Relationships>'
    )
    parts["_rels/.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{rel}/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml"
    kinds = {"header1": "header", "footer1": "footer", "footnotes": "footnotes",
             "endnotes": "endnotes", "document": "document.main"}  # fmt: skip
    overrides = "".join(
        f'<Override PartName="/{name}" ContentType="{main}.{kinds[name[5:-4]]}+xml"/>'
        for name in parts
        if name.startswith("word/") and name.endswith(".xml")
    )
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name.replace("/", "\\") if backslashes else name, xml)
    return out.getvalue()
