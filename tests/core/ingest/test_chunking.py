"""Chunking: sizes in tokens, breaks at the best boundary, exact offsets, pages kept."""

from __future__ import annotations

import itertools

import pytest

from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.ingest.chunking import (
    chunk_document,
    content_hash,
    embedding_text,
    split_spans,
)
from desktop_rag.core.records import Document, Section

offsets = FakeEmbedder().token_offsets


def count(text: str) -> int:
    return len(offsets(text))


def doc_of(*sections: tuple[str, int | None, tuple[str, ...]], path: str = "/d/x.md") -> Document:
    parts, secs, pos = [], [], 0
    for text, page, heading in sections:
        secs.append(Section(text=text, start=pos, page=page, heading_path=heading))
        parts.append(text)
        pos += len(text) + 2
        parts.append("\n\n")
    return Document(path=path, kind="text", text="".join(parts), sections=tuple(secs))


def check_invariants(doc: Document, chunks, target: int) -> None:
    for i, c in enumerate(chunks):
        assert c.ordinal == i
        assert doc.text[c.start : c.end] == c.text
        assert c.text == c.text.strip(), "chunks start and end on tokens"
        assert count(c.text) <= target
        assert c.content_hash == content_hash(c.text, c.heading_path)


def sentences(n: int, words: int = 9) -> str:
    return " ".join(
        f"Sentence {i} " + " ".join(f"w{i}x{j}" for j in range(words)) + "." for i in range(n)
    )


def test_short_section_is_one_chunk():
    doc = doc_of(("  Hello world, a short note.  ", None, ()))
    chunks = chunk_document(doc, offsets, target=50, overlap=5)
    assert [c.text for c in chunks] == ["Hello world, a short note."]
    check_invariants(doc, chunks, 50)


def test_breaks_at_sentence_ends_with_overlap():
    text = sentences(30)  # 30 sentences of 12 tokens
    doc = doc_of((text, None, ()))
    chunks = chunk_document(doc, offsets, target=50, overlap=12)
    check_invariants(doc, chunks, 50)
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.startswith("Sentence "), c.text[:30]
        assert c.text.endswith("."), c.text[-30:]
    # Overlap: each chunk starts before the previous one ends.
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end
    # All text is covered.
    covered = "".join(doc.text[c.start : c.end] for c in chunks)
    for i in range(30):
        assert f"Sentence {i} " in covered


def test_prefers_paragraph_and_heading_breaks_without_overlap():
    para = " ".join(f"word{i}" for i in range(30)) + "."
    text = f"{para}\n\n{para}\n\n# Heading two\n\n{para}\n\n{para}"
    doc = doc_of((text, None, ()))
    chunks = chunk_document(doc, offsets, target=70, overlap=10)
    check_invariants(doc, chunks, 70)
    starts = [c.text.split()[0] for c in chunks]
    assert "#" in starts, starts
    for a, b in itertools.pairwise(chunks):
        assert b.start >= a.end, "no overlap after a paragraph or heading break"


def test_balanced_pieces_leave_no_scrap():
    text = sentences(11)  # 132 tokens, target 100: two pieces of ~66, not 100 + 32
    doc = doc_of((text, None, ()))
    chunks = chunk_document(doc, offsets, target=100, overlap=0)
    sizes = [count(c.text) for c in chunks]
    assert len(sizes) == 2
    assert min(sizes) >= 40, sizes


def test_cjk_sentences_and_text_without_spaces():
    zh = "这是第一句话。" * 40 + "没有标点的很长的文字" * 30
    doc = doc_of((zh, None, ()))
    chunks = chunk_document(doc, offsets, target=32, overlap=4)
    check_invariants(doc, chunks, 32)
    assert len(chunks) > 10
    sentence_chunks = [c for c in chunks if c.end <= zh.index("没有")]
    assert sentence_chunks
    for c in sentence_chunks[:-1]:
        assert c.text.endswith("。"), c.text


def test_long_word_without_breaks_falls_back_to_token_windows():
    text = "-".join(["x"] * 500)  # 999 punctuation/letter tokens, no spaces
    spans = split_spans(text, offsets, target=40, overlap=0)
    assert all(count(text[s:e]) <= 40 for s, e in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_sections_keep_page_and_heading_and_never_merge():
    doc = doc_of(
        ("Page one text. " * 3, 1, ("Intro",)),
        ("Page two text. " * 3, 2, ("Intro", "Details")),
    )
    chunks = chunk_document(doc, offsets, target=100, overlap=10)
    assert [(c.page, c.heading_path) for c in chunks] == [
        (1, ("Intro",)),
        (2, ("Intro", "Details")),
    ]
    check_invariants(doc, chunks, 100)
    assert (
        chunks[0].content_hash
        != chunk_document(doc_of(("Page one text. " * 3, 1, ("Other",))), offsets, 100, 10)[
            0
        ].content_hash
    ), "the heading is part of what is embedded, so of the hash"


def test_very_long_section_is_split_in_blocks(monkeypatch: pytest.MonkeyPatch):
    import desktop_rag.core.ingest.chunking as chunking

    monkeypatch.setattr(chunking, "BLOCK_CHARS", 500)
    text = "\n\n".join(sentences(3) for _ in range(40))
    doc = doc_of((text, None, ()))
    chunks = chunk_document(doc, offsets, target=60, overlap=8)
    check_invariants(doc, chunks, 60)
    assert chunks[-1].end == len(text)


def test_whitespace_only_section_gives_nothing():
    assert chunk_document(doc_of(("  \n\t ", None, ())), offsets, 10, 2) == []


def test_embedding_text_prefixes_heading_path():
    assert embedding_text("body", ()) == "body"
    assert embedding_text("body", ("A", "B")) == "A > B\nbody"
    assert len(embedding_text("b", ("x" * 500,)).split("\n")[0]) <= 121


def test_real_tokenizer_limit_is_respected():
    """Chunks sized by MiniLM's tokenizer stay within its 256 word pieces (no weights loaded)."""
    from desktop_rag.core.embedding.embedder import SentenceTransformerEmbedder
    from desktop_rag.core.paths import default_embedder_dir

    emb = SentenceTransformerEmbedder(default_embedder_dir())
    text = ("Pneumonoultramicroscopicsilicovolcanoconiosis is long. " * 40) + "数据库索引。" * 60
    doc = doc_of((text, None, ()))
    chunks = chunk_document(doc, emb.token_offsets, target=200, overlap=32)
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert len(emb.token_offsets(c.text)) <= 200
    assert chunks[-1].end == len(text), "the tokenizer file's own truncation must be off"
    assert emb._model is None, "chunking needs only the tokenizer, not the weights"
