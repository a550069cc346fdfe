"""Turn a file into a `Document`. STUB until the ingestion work lands: plain UTF-8 text only.

Contract (kept by the real implementation):
- `is_supported(path)` says whether a loader exists for the file's type.
- `extract_file(path, limits)` returns a Document or raises ExtractionError(path, reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop_rag.core.errors import ExtractionError
from desktop_rag.core.records import Document, Section

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}


@dataclass(frozen=True)
class ExtractLimits:
    max_bytes: int = 100 * 1024 * 1024
    pdf_timeout_s: float = 120.0
    pdf_memory_mb: int = 2048


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES


def extract_file(path: Path, limits: ExtractLimits = ExtractLimits()) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExtractionError(str(path), str(exc)) from exc
    if not text.strip():
        raise ExtractionError(str(path), "the file is empty")
    return Document(path=str(path), kind="text", text=text, sections=(Section(text=text, start=0),))
