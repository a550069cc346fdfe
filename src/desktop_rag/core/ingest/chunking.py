"""Cutting a Document into chunks sized in the embedder's own tokens. Pure: no I/O.

Each section (one page, one heading path) is tokenized once; breaks are then chosen
from character positions found by regular expressions, best kind first: a heading, a
blank line, a line end, a sentence end (also 。！？), a space, and only then anywhere
between two tokens (text without spaces). Chunks never cross sections, so a chunk has
one page and one heading path.
"""

from __future__ import annotations

import hashlib
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence

from desktop_rag.core.ingest.text_cleanup import clean_for_index, clean_words
from desktop_rag.core.records import Chunk, Document

TokenOffsets = Callable[[str], Sequence[tuple[int, int]]]

# Sections longer than this are tokenized in blocks cut at a blank line (or line end),
# so one huge log file never holds millions of offsets at once.
BLOCK_CHARS = 200_000

# Break kinds, best first. Each pattern's match END is where the next chunk may begin.
_BREAKS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\n[ \t]*(?=#{1,6}[ \t])"),  # before a Markdown heading
    re.compile(r"\n[ \t]*\n\s*"),  # blank line: paragraph
    re.compile(r"\n\s*"),  # line end
    re.compile(r"[.!?][\"'”’)\]]*\s+|[。！？!?]+[」』”’）)]*\s*"),  # sentence end
    re.compile(r"\s+"),  # word
)
_NO_OVERLAP_KINDS = 2  # after a heading or paragraph break the next chunk starts clean
_MIN_FILL = 0.5  # a break is taken only after half the soft target


# What the embedder reads besides a chunk's own tokens: [CLS] and [SEP], and the heading
# path put before the chunk (`embedding_text`, at most 120 characters: about 30-40 tokens).
SPECIAL_TOKENS = 2
HEADING_TOKENS = 40


def chunk_limits(chunk_tokens: int, overlap: int, embedder_max_tokens: int) -> tuple[int, int]:
    """(size, overlap) in tokens that the embedder reads whole.

    A sentence-transformers model truncates its input at `max_seq_length` (256 word pieces
    for all-MiniLM-L6-v2): the tail of a longer chunk would be invisible to vector search.
    So the chunk size is capped at what fits with the heading prefix and special tokens, and
    the overlap at half of that.

    >>> chunk_limits(1000, 100, 256)
    (214, 100)
    >>> chunk_limits(200, 32, 256)
    (200, 32)
    """
    size = max(16, min(chunk_tokens, embedder_max_tokens - SPECIAL_TOKENS - HEADING_TOKENS))
    return size, min(overlap, size // 2)


def content_hash(text: str, heading_path: Sequence[str] = ()) -> str:
    """What identifies a chunk's vector: the heading path and text the embedder sees."""
    data = "\x1f".join(heading_path) + "\x1e" + text
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def embedding_text(text: str, heading_path: Sequence[str] = (), max_prefix_chars: int = 120) -> str:
    """The text given to the embedder: the heading path (short) gives the chunk context."""
    if not heading_path:
        return text
    prefix = " > ".join(heading_path)
    if len(prefix) > max_prefix_chars:
        prefix = "…" + prefix[-max_prefix_chars:]
    return f"{prefix}\n{text}"


def _blocks(text: str) -> list[tuple[int, int]]:
    """Split very long text into blocks at paragraph or line ends (spans into `text`)."""
    spans = []
    start = 0
    while len(text) - start > BLOCK_CHARS:
        limit = start + BLOCK_CHARS
        cut = text.rfind("\n\n", start + BLOCK_CHARS // 2, limit)
        if cut < 0:
            cut = text.rfind("\n", start + BLOCK_CHARS // 2, limit)
        cut = limit if cut < 0 else cut + 1
        spans.append((start, cut))
        start = cut
    spans.append((start, len(text)))
    return spans


class _Breaks:
    """Sorted break positions per kind, searched by bisection."""

    def __init__(self, text: str):
        self.positions = [[m.end() for m in pattern.finditer(text)] for pattern in _BREAKS]

    def best(self, lo: int, hi: int, aim: int) -> tuple[int, int] | None:
        """The best-kind break in [lo, hi] nearest to `aim`, as (kind, position)."""
        for kind, positions in enumerate(self.positions):
            left = bisect_left(positions, lo)
            right = bisect_right(positions, hi)
            if left < right:
                candidates = positions[left:right]
                return kind, min(candidates, key=lambda p: (abs(p - aim), -p))
        return None

    def first_at_or_after(self, lo: int, hi: int, kinds: range) -> int | None:
        """The earliest break of the given kinds in [lo, hi)."""
        found = None
        for kind in kinds:
            positions = self.positions[kind]
            i = bisect_left(positions, lo)
            if i < len(positions) and positions[i] < hi and (found is None or positions[i] < found):
                found = positions[i]
        return found


def split_spans(
    text: str, token_offsets: TokenOffsets, target: int, overlap: int
) -> list[tuple[int, int]]:
    """Character spans of chunks of at most `target` tokens covering `text`.

    Consecutive chunks share up to `overlap` tokens, except after a heading or paragraph
    break. Spans start and end on tokens, so they never begin or end with whitespace.
    """
    if target < 1:
        raise ValueError("target must be at least 1 token")
    overlap = max(0, min(overlap, target // 2))
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        block = text[block_start:block_end]
        for s, e in _split_block(block, token_offsets, target, overlap):
            spans.append((block_start + s, block_start + e))
    return spans


def _split_block(
    text: str, token_offsets: TokenOffsets, target: int, overlap: int
) -> list[tuple[int, int]]:
    offsets = [(s, e) for s, e in token_offsets(text) if e > s]
    n = len(offsets)
    if n == 0:
        return []
    starts = [s for s, _ in offsets]
    breaks = _Breaks(text) if n > target else None
    spans = []
    i = 0
    while i < n:
        remaining = n - i
        if remaining <= target or breaks is None:
            spans.append((offsets[i][0], offsets[-1][1]))
            break
        # Aim for equal pieces so the last one is not a scrap, never above target.
        pieces = math.ceil((remaining - overlap) / max(1, target - overlap))
        soft = min(target, math.ceil((remaining - overlap) / pieces) + overlap)
        lo_tok = i + max(1, int(soft * _MIN_FILL))
        hi_tok = i + target  # a break before this token leaves exactly `target` tokens
        found = breaks.best(starts[lo_tok], starts[hi_tok], starts[i + soft])
        if found is None:
            kind, j = len(_BREAKS), i + soft
        else:
            kind, pos = found
            j = bisect_left(starts, pos)
        j = min(max(j, i + 1), hi_tok)
        spans.append((offsets[i][0], offsets[j - 1][1]))
        i = _next_start(i, j, kind, overlap, starts, breaks)
    return spans


def _next_start(i: int, j: int, kind: int, overlap: int, starts: list[int], breaks: _Breaks) -> int:
    """Where the next chunk begins: at the break, or a little before it to overlap."""
    if overlap == 0 or kind < _NO_OVERLAP_KINDS:
        return j
    first = max(j - overlap, i + (j - i + 1) // 2)  # always at least half a chunk forward
    # Prefer starting the overlap at a sentence, else at a word.
    for kinds in (range(2, 4), range(4, 5)):
        pos = breaks.first_at_or_after(starts[first], starts[j], kinds)
        if pos is not None:
            return max(first, bisect_left(starts, pos))
    return first


def chunk_document(
    doc: Document, token_offsets: TokenOffsets, target: int = 200, overlap: int = 32
) -> list[Chunk]:
    """Chunks of `doc`, in order. `c.text` is the clean form (`text_cleanup`) of the
    original span `doc.text[c.start:c.end]`: what is embedded, searched and shown, while
    the offsets cite the document's own text."""
    chunks: list[Chunk] = []
    for section in doc.sections:
        clean, offsets = clean_for_index(section.text)
        headings = tuple(clean_words(h) for h in section.heading_path)
        for s, e in split_spans(clean, token_offsets, target, overlap):
            text = clean[s:e]
            chunks.append(
                Chunk(
                    path=doc.path,
                    ordinal=len(chunks),
                    text=text,
                    start=section.start + offsets.to_original(s),
                    end=section.start + offsets.to_original(e),
                    page=section.page,
                    heading_path=headings,
                    content_hash=content_hash(text, headings),
                )
            )
    return chunks
