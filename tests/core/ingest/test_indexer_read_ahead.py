"""The indexer reading files ahead of the embedder: same results as reading in turn, a
file's failure on the reader thread stays its own, cancel stops both sides, the buffer is
bounded, and embedding starts while a slow extraction is still running."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.ingest import extract
from desktop_rag.core.ingest.indexer import Indexer, IndexerTuning
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.records import Progress
from desktop_rag.core.settings import Settings
from tests.core.ingest.extract.filegen import make_pdf
from tests.core.ingest.test_indexer import assert_consistent

SETTINGS = Settings(chunk_tokens=40, chunk_overlap=8)
CHUNK_COLUMNS = ["id", "path", "ordinal", "text", "start", "end", "page", "heading_path",
                 "content_hash", "vector"]  # fmt: skip


def para(tag: str, n: int = 30) -> str:
    return " ".join(f"{tag}{i}" for i in range(n)) + "."


def many_files(root: Path, count: int, words: int = 60) -> Path:
    """`count` text files of about three 40-token chunks each, no two chunks alike."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"f{i:03}.txt").write_text(para(f"w{i}x", words), encoding="utf-8")
    return root


class SlowEmbedder(FakeEmbedder):
    """The fake embedder taking `seconds` a call, noting what had been read by then."""

    def __init__(self, seconds: float, read: list[str] | None = None):
        super().__init__()
        self.seconds = seconds
        self.read = read if read is not None else []
        self.calls: list[tuple[float, int]] = []  # (when, files read by then)

    def embed(self, texts):
        self.calls.append((time.monotonic(), len(self.read)))
        time.sleep(self.seconds)
        return super().embed(texts)


@pytest.fixture
def slow_reads(monkeypatch):
    """Extraction that sleeps (a stand-in for a PDF child) and notes each file it read."""
    real = extract.Extractor
    state = {"delay": lambda path: 0.0, "read": [], "finished": []}

    class Slow(real):
        def extract(self, path, on_page=None):
            time.sleep(state["delay"](path))
            state["read"].append(Path(path).name)
            try:
                return super().extract(path, on_page)
            finally:
                state["finished"].append(time.monotonic())

    monkeypatch.setattr(extract, "Extractor", Slow)
    return state


def mixed_folder(root: Path) -> Path:
    """Text, Markdown, real PDFs, an empty file and a corrupt PDF."""
    many_files(root / "notes", 6)
    (root / "guide.md").write_text(
        f"# Guide\n\n{para('alpha')}\n\n## Part\n\n{para('beta')}\n", encoding="utf-8"
    )
    (root / "report.pdf").write_bytes(
        make_pdf([[f"page one {para('gamma', 12)}"], [f"page two {para('delta', 12)}"]])
    )
    (root / "short.pdf").write_bytes(make_pdf([["a single page about kiwis"]]))
    (root / "empty.txt").write_text("  \n", encoding="utf-8")
    (root / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    return root


def index_into(data_dir: Path, folder: Path, tuning: IndexerTuning, embedder=None):
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=embedder or FakeEmbedder())
    indexer = Indexer(kb.store, kb.embedder, SETTINGS, tuning=tuning)
    report = indexer.run([folder])
    rows = kb.store.scan_chunks(CHUNK_COLUMNS).to_pylist()
    for row in rows:
        row["vector"] = [round(float(x), 6) for x in row["vector"]]
        # The id is the file's hash, the write's time and the ordinal: unique, not repeatable.
        file_hash, _batch, ordinal = row.pop("id").split("-")
        assert int(ordinal) == row["ordinal"]
        row["id_file_part"] = file_hash
    rows.sort(key=lambda r: (r["path"], r["ordinal"]))
    records = [
        {k: v for k, v in r.__dict__.items() if k != "indexed_at"} for r in kb.file_records()
    ]
    kb.close()
    return report, rows, records, indexer


def test_reading_ahead_gives_exactly_what_reading_in_turn_gives(tmp_path, slow_reads):
    folder = mixed_folder(tmp_path / "docs")
    in_turn = IndexerTuning(read_ahead_files=0)
    # Small groups embedded early and a jittery reader: a different interleaving each run.
    ahead = IndexerTuning(read_ahead_files=2, read_ahead_texts=5, embed_early=2)
    results = [index_into(tmp_path / "d0", folder, in_turn)]
    jitter = random.Random(7)
    for run in (1, 2):
        slow_reads["delay"] = lambda path: jitter.random() * 0.05
        results.append(index_into(tmp_path / f"d{run}", folder, ahead))

    report0, rows0, records0, _ = results[0]
    assert report0.indexed == 9 and report0.chunks_added == len(rows0) > 12
    assert sorted(Path(s.path).name for s in report0.skipped) == ["broken.pdf", "empty.txt"]
    assert {r["page"] for r in rows0 if r["path"].endswith("report.pdf")} == {1, 2}
    for report, rows, records, indexer in results[1:]:
        assert rows == rows0  # same chunks, ordinals, pages, vectors, in the same order
        assert records == records0
        assert (report.indexed, report.chunks_added, report.chunks_embedded) == (
            report0.indexed, report0.chunks_added, report0.chunks_embedded,
        )  # fmt: skip
        assert [(s.path, s.reason) for s in report.skipped] == [
            (s.path, s.reason) for s in report0.skipped
        ]
        assert indexer.read_ahead is not None and indexer.read_ahead.peak_items >= 1


def test_a_file_failing_on_the_reader_thread_fails_alone(data_dir, tmp_path, slow_reads):
    folder = many_files(tmp_path / "docs", 8)
    (folder / "f003.txt").write_text("poison " + para("p"), encoding="utf-8")

    class Picky(FakeEmbedder):
        def token_offsets(self, text):  # chunking runs on the reader thread
            if text.startswith("poison"):
                raise RuntimeError("tokenizer choked")
            return super().token_offsets(text)

    slow_reads["delay"] = lambda path: 0.01
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=Picky())
    report = kb.index([folder])
    assert report.indexed == 7
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("f003.txt", "unexpected error: RuntimeError: tokenizer choked")
    ]
    records = {Path(r.path).name: r for r in kb.file_records()}
    assert records["f003.txt"].status == "error" and records["f002.txt"].status == "indexed"
    assert kb.search_keyword("w4x7", 3)[0].path == str(folder / "f004.txt")
    kb.close()


def test_cancel_with_a_slow_embedder_stops_both_sides_promptly(data_dir, tmp_path, slow_reads):
    folder = many_files(tmp_path / "docs", 40)
    cancel = threading.Event()
    emb = SlowEmbedder(0.05, slow_reads["read"])
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=emb)
    tuning = IndexerTuning(embed_group=1, write_rows=1, read_ahead_files=4)
    seen: list[Progress] = []

    def stop_after_five(p: Progress) -> None:
        seen.append(p)
        if p.done >= 5:
            cancel.set()

    started = time.monotonic()
    report = Indexer(
        kb.store, emb, SETTINGS, progress=stop_after_five, cancel=cancel, tuning=tuning
    ).run([folder])
    took = time.monotonic() - started
    assert report.cancelled and 5 <= report.indexed < 10 and took < 5, (report, took)
    # The reader stopped too: at most the buffer and the file in hand beyond what was used.
    assert len(slow_reads["read"]) <= report.indexed + 4 + 2
    assert not [t for t in threading.enumerate() if t.name == "desktop-rag-read-ahead"]
    assert [p.done for p in seen] == sorted(p.done for p in seen)  # both threads report
    assert_consistent(kb, report.indexed)
    rest = kb.index([folder])
    assert rest.indexed == 40 - report.indexed and rest.unchanged == report.indexed
    kb.close()


@pytest.mark.parametrize(("files", "texts"), [(3, 10_000), (100, 7)])
def test_a_slow_embedder_does_not_pull_the_folder_into_memory(
    data_dir, tmp_path, slow_reads, files, texts
):
    folder = many_files(tmp_path / "docs", 30)
    emb = SlowEmbedder(0.02, slow_reads["read"])
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=emb)
    tuning = IndexerTuning(embed_group=1, read_ahead_files=files, read_ahead_texts=texts)
    indexer = Indexer(kb.store, emb, SETTINGS, tuning=tuning)
    report = indexer.run([folder])
    assert report.indexed == 30
    ahead = indexer.read_ahead
    assert 0 < ahead.peak_items <= files and ahead.peak_weight <= texts
    # Embedding the k-th file (one call each): at most the buffer and one in hand beyond it.
    read_beyond = [read - k for k, (_when, read) in enumerate(emb.calls, start=1)]
    assert len(emb.calls) == 30
    assert max(read_beyond) <= ahead.peak_items + 1
    assert max(read_beyond) >= 2, "the reader did read ahead"
    kb.close()


def test_embedding_starts_while_a_slow_extraction_is_still_running(data_dir, tmp_path, slow_reads):
    """The embedder does not idle until a whole group is read when the reader is slow."""
    folder = many_files(tmp_path / "docs", 8)
    slow_reads["delay"] = lambda path: 0.15
    emb = SlowEmbedder(0.0, slow_reads["read"])
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=emb)
    tuning = IndexerTuning(embed_group=10_000, embed_early=3)
    report = Indexer(kb.store, emb, SETTINGS, tuning=tuning).run([folder])
    assert report.indexed == 8
    first_embed = emb.calls[0][0]
    assert first_embed < slow_reads["finished"][-1] - 0.3  # well before the last read ended
    assert len(emb.calls) >= 4
    kb.close()


def test_reading_in_turn_waits_for_a_full_group_as_before(data_dir, tmp_path, slow_reads):
    folder = many_files(tmp_path / "docs", 8)
    emb = SlowEmbedder(0.0, slow_reads["read"])
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=emb)
    tuning = IndexerTuning(embed_group=10_000, embed_early=3, read_ahead_files=0)
    indexer = Indexer(kb.store, emb, SETTINGS, tuning=tuning)
    assert indexer.run([folder]).indexed == 8
    assert [read for _when, read in emb.calls] == [8]  # one call, after every file was read
    assert indexer.read_ahead is None
    kb.close()


def test_an_error_while_embedding_does_not_wait_for_the_readers_pdf(
    data_dir, tmp_path, monkeypatch
):
    """The calling thread fails (the index cannot be read) while the reader is inside a PDF
    that would take its whole time limit: the run ends with the error at once."""
    from desktop_rag.core.ingest.extract import ExtractLimits, PdfExtractor
    from tests.core.ingest.extract import workers

    folder = many_files(tmp_path / "docs", 3)
    (folder / "z.pdf").write_bytes(make_pdf([["never finishes"]]))
    pdf = PdfExtractor(ExtractLimits(pdf_timeout_s=60.0), read_pages=workers.sleep_forever)
    real = extract.Extractor
    monkeypatch.setattr(extract, "Extractor", lambda limits: real(limits, pdf=pdf))
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=FakeEmbedder())

    def broken(*args, **kwargs):
        time.sleep(1.0)  # the reader is in the PDF by now
        raise OSError("index unreadable")

    monkeypatch.setattr(kb.store, "vectors_by_content_hash", broken)
    tuning = IndexerTuning(embed_group=1)
    started = time.monotonic()
    try:
        with pytest.raises(OSError, match="index unreadable"):
            Indexer(kb.store, kb.embedder, SETTINGS, tuning=tuning).run([folder])
    finally:
        pdf.close()
    assert time.monotonic() - started < 10
    assert not [t for t in threading.enumerate() if t.name == "desktop-rag-read-ahead"]
    kb.close()
