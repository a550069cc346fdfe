"""Typed records passed between the engine's parts (extraction, chunking, store, retrieval)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of extracted text with one page and one heading path.

    `start` is the character offset of `text` inside `Document.text`.
    """

    text: str
    start: int
    page: int | None = None  # 1-based, PDFs only
    heading_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A file turned into text. `text` is all sections joined; offsets point into it."""

    path: str
    kind: str  # "pdf", "markdown", "text", "code", "rst", "html", "docx"
    text: str
    sections: tuple[Section, ...]
    title: str | None = None
    warnings: tuple[str, ...] = ()  # e.g. "pages 3, 7 have no text layer"
    partial: str = ""  # why only part of the file was read ("" when it was read whole)


@dataclass(frozen=True)
class Chunk:
    """A piece of a document small enough for the embedder, remembering where it came from."""

    path: str
    ordinal: int  # position within its file
    text: str
    start: int  # character offsets in Document.text
    end: int
    page: int | None = None
    heading_path: tuple[str, ...] = ()
    # sha256 of `text` and its heading path (32 hex digits); unchanged chunks keep their
    # vectors on re-index. Not `FileRecord.content_hash`, which is the whole file's.
    content_hash: str = ""


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its fused score (higher is better)."""

    chunk_id: str
    path: str
    text: str
    start: int
    end: int
    score: float
    page: int | None = None
    heading_path: tuple[str, ...] = ()
    ordinal: int = 0
    # Raw signals behind the fused score, so callers can judge relevance in absolute terms
    # (RRF scores only rank): cosine similarity of the vector side, BM25 of the keyword side.
    dense_score: float | None = None
    keyword_score: float | None = None


@dataclass(frozen=True)
class DiskFile:
    """A file as the folder walk found it: what stat says, before anything is read."""

    path: str
    size: int
    mtime_ns: int
    content_hash: str | None = None  # sha256 of its bytes, only where stat cannot settle it


@dataclass(frozen=True)
class FileRecord:
    """The index's knowledge of one file on disk."""

    path: str
    size: int
    mtime_ns: int
    # sha256 of the file's bytes (hex). Not `Chunk.content_hash` (a chunk's text): the
    # chunks table stores this one as `file_hash`; the name is the files table's column.
    content_hash: str
    status: str  # "indexed" | "error" | "pending"
    error: str | None = None
    chunk_count: int = 0
    kind: str = ""


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class Progress:
    """Reported between files and batches; `total` may grow while a folder is scanned."""

    done: int
    total: int
    current: str = ""
    phase: str = ""  # "scanning" | "extracting" | "embedding" | "writing"
    rate: float = 0.0  # files per second
    eta_s: float | None = None
    page: int = 0  # while a long PDF is read: the page it is at, of `pages`
    pages: int = 0


@dataclass(frozen=True)
class IndexReport:
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    chunks_added: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    skipped: tuple[SkippedFile, ...] = field(default_factory=tuple)
    # Indexed, but only in part (a PDF cut short by its time limit): what was kept, and why.
    partial: tuple[SkippedFile, ...] = field(default_factory=tuple)
