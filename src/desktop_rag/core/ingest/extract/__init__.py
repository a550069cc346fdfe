"""Turn a file into a `Document`, or say in plain words why it cannot be read.

- `is_supported(path)`: a loader exists for the file's type (suffix, or names like README).
- `extract_file(path, limits)`: one file, standalone; a PDF gets a child process of its own.
- `Extractor(limits)`: for many files; keeps one PDF child process alive between them.
Every failure is an `ExtractionError(path, reason)`; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop_rag.core.errors import ExtractionError
from desktop_rag.core.ingest.extract.base import Parsed, Unreadable, whole
from desktop_rag.core.ingest.extract.decode import declared_html_charset, decode_text
from desktop_rag.core.ingest.extract.docx import parse_docx
from desktop_rag.core.ingest.extract.html import parse_html
from desktop_rag.core.ingest.extract.limits import DEFAULT_LIMITS, ExtractLimits
from desktop_rag.core.ingest.extract.markdown import parse_markdown
from desktop_rag.core.ingest.extract.pdf import PdfExtractor
from desktop_rag.core.ingest.extract.reading import check_file, read_bytes
from desktop_rag.core.ingest.extract.registry import SUPPORTED_SUFFIXES, kind_of
from desktop_rag.core.ingest.extract.rst import parse_rst
from desktop_rag.core.records import Document

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ExtractLimits",
    "ExtractionError",
    "Extractor",
    "PdfExtractor",
    "extract_file",
    "is_supported",
]

_TEXT_PARSERS = {
    "text": whole,
    "code": whole,
    "markdown": parse_markdown,
    "rst": parse_rst,
    "html": parse_html,
}


def is_supported(path: Path) -> bool:
    return kind_of(Path(path)) is not None


def extract_file(path: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> Document:
    with Extractor(limits) as extractor:
        return extractor.extract(path)


class Extractor:
    """Extracts many files with one set of limits; `close()` ends the PDF child process."""

    def __init__(self, limits: ExtractLimits = DEFAULT_LIMITS, *, pdf: PdfExtractor | None = None):
        self.limits = limits
        self._pdf = pdf
        self._owns_pdf = pdf is None

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pdf is not None and self._owns_pdf:
            self._pdf.close()
            self._pdf = None

    def abort(self) -> None:
        """From any thread: cut short a PDF being extracted now (cancel without waiting)."""
        if self._pdf is not None:
            self._pdf.abort()

    def extract(self, path: Path, on_page: Callable[[int, int], None] | None = None) -> Document:
        """The file as a Document, or raise ExtractionError; `on_page(number, total)` while
        a PDF's pages are read."""
        path = Path(path)
        try:
            kind, parsed = self._parse(path, on_page)
        except Unreadable as exc:
            raise ExtractionError(str(path), exc.reason) from exc
        except Exception as exc:  # the contract: only ExtractionError leaves this function
            detail = f"{type(exc).__name__}: {exc}"
            raise ExtractionError(str(path), f"unexpected error while reading: {detail}") from exc
        return Document(
            path=str(path),
            kind=kind,
            text=parsed.text,
            sections=parsed.sections,
            title=parsed.title,
            warnings=parsed.warnings,
            partial=parsed.partial,
        )

    def _parse(self, path: Path, on_page=None) -> tuple[str, Parsed]:
        kind = kind_of(path)
        if kind is None:
            raise Unreadable(f"unsupported file type ({path.suffix or path.name})")
        if kind == "pdf":
            check_file(path, self.limits.max_bytes)
            if self._pdf is None:
                self._pdf = PdfExtractor(self.limits)
            parsed = self._pdf.extract(path, on_page)
        else:
            data = read_bytes(path, self.limits.max_bytes)
            if kind == "docx":
                parsed = parse_docx(data, max_xml_bytes=self.limits.max_bytes)
            else:
                declared = declared_html_charset(data) if kind == "html" else None
                parsed = _TEXT_PARSERS[kind](decode_text(data, declared))
        if not parsed.text.strip():
            raise Unreadable("the file is empty")
        return kind, parsed
