"""The indexed text is what a person would type; offsets still cite the original (pure)."""

from __future__ import annotations

import base64
import random
import time
from pathlib import Path

from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.ingest.chunking import chunk_document
from desktop_rag.core.ingest.text_cleanup import clean_for_index
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.records import Document, Section
from desktop_rag.core.settings import Settings

SHY, ZWSP, WJ = "\u00ad", "\u200b", "\u2060"


def test_soft_hyphens_and_zero_width_characters_leave_the_words_whole():
    text = f"Das Ge{SHY}samt{SHY}kon{SHY}zept und die Zu{ZWSP}kunft{WJ}s{SHY}pläne."
    clean, offsets = clean_for_index(text)
    assert clean == "Das Gesamtkonzept und die Zukunftspläne."
    # Every clean character maps to the same character in the original.
    for i, ch in enumerate(clean):
        assert text[offsets.to_original(i)] == ch
    assert offsets.to_original(len(clean)) == len(text)


def test_ligatures_are_spelled_out_and_map_to_the_ligature():
    text = "The ﬁnal ﬂoor plan, eﬀective at once, is ﬃciently sized."
    clean, offsets = clean_for_index(text)
    assert clean == "The final floor plan, effective at once, is fficiently sized."
    start = clean.index("final")
    assert text[offsets.to_original(start) : offsets.to_original(start + 5)] == "ﬁnal"
    assert text[offsets.to_original(clean.index("plan")) :].startswith("plan")


def test_text_without_anything_to_clean_is_untouched():
    samples = [
        "Plain prose, with URLs like https://example.org/a/b?c=d&e=f#g and a sha256 "
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.",
        "def f(x):\n    return x * 2  # code stays code\n",
        "Straße, fl is plain; 中文文本；Русский текст; emoji 👩‍💻 with a zero width joiner.",
        "Base64 words like SGVsbG8gd29ybGQ= inside a sentence are short and stay.",
    ]
    for text in samples:
        assert clean_for_index(text)[0] == text


def _png(size: int) -> str:
    return base64.b64encode(random.Random(1).randbytes(size)).decode()


def test_a_data_uri_image_becomes_a_placeholder_and_the_prose_stays():
    note = (
        "# Garden plan\n\nThe herb bed by the shed gets basil and thyme this spring.\n\n"
        f"![plan](data:image/png;base64,{_png(270_000)})\n\n"
        "Water the herb bed every second evening in July.\n"
    )
    clean, offsets = clean_for_index(note)
    assert "![plan]([embedded image])" in clean
    assert "basil and thyme" in clean and "every second evening" in clean
    assert len(clean) < 300
    tail = clean.index("Water")
    assert note[offsets.to_original(tail) :].startswith("Water the herb bed")


def test_wrapped_base64_and_hex_dumps_become_placeholders():
    blob = base64.encodebytes(random.Random(2).randbytes(3000)).decode()  # 76-char lines
    pem = f"Key follows:\n-----BEGIN CERTIFICATE-----\n{blob}-----END CERTIFICATE-----\nEnd."
    clean, _ = clean_for_index(pem)
    expected = "Key follows:\n-----BEGIN CERTIFICATE-----\n[encoded data]\n"
    expected += "-----END CERTIFICATE-----"
    assert clean == expected + "\nEnd."
    dump = " ".join(f"{b:02x}" for b in random.Random(3).randbytes(400))
    clean, _ = clean_for_index(f"Memory at 0x7ff0:\n{dump}\nthen the crash.")
    assert clean == "Memory at 0x7ff0:\n[hex data]\nthen the crash."


def test_chunks_are_clean_and_cite_the_original_span():
    body = f"Ge{SHY}samt{SHY}kon{SHY}zept der ﬁnalen Planung. " * 40
    doc = Document("/d/a.txt", "text", body, (Section(body, 0),))
    chunks = chunk_document(doc, FakeEmbedder().token_offsets, 40, 0)
    assert len(chunks) > 3
    for chunk in chunks:
        assert SHY not in chunk.text and "ﬁ" not in chunk.text
        assert clean_for_index(body[chunk.start : chunk.end])[0] == chunk.text
    assert chunks[0].text.startswith("Gesamtkonzept der finalen Planung.")


def test_keyword_search_finds_the_words_as_typed_and_the_blob_costs_nothing(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "konzept.md").write_text(
        f"# Stadtplanung\n\nDas Ge{SHY}samt{SHY}kon{SHY}zept gilt ab Mai. Der ﬁnale Entwurf "
        "liegt im Rathaus aus.\n"
    )
    (docs / "garden.md").write_text(
        "# Garden\n\nThe quince tree needs pruning in February.\n\n"
        f"![photo](data:image/png;base64,{_png(270_000)})\n\nMulch the quince afterwards.\n"
    )
    kb = KnowledgeBase(AppPaths(data_dir), Settings(), embedder=FakeEmbedder())
    started = time.monotonic()
    report = kb.index([docs])
    assert report.indexed == 2 and time.monotonic() - started < 20
    assert [Path(h.path).name for h in kb.search_keyword("Gesamtkonzept", 3)] == ["konzept.md"]
    assert Path(kb.search_keyword("finale Entwurf", 3)[0].path).name == "konzept.md"
    garden = next(r for r in kb.file_records(docs) if r.path.endswith("garden.md"))
    assert garden.chunk_count <= 2
    hit = kb.search_keyword("quince pruning", 1)[0]
    assert "[embedded image]" in hit.text or "quince" in hit.text
    kb.close()
