"""The indexer with the fake embedder: skipping, vector reuse, bad files, walking, cancel."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.ingest.ignore import IgnoreRules
from desktop_rag.core.ingest.indexer import Indexer, IndexerTuning, hash_file, walk_folder
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.records import Progress
from desktop_rag.core.settings import Settings

SETTINGS = Settings(chunk_tokens=40, chunk_overlap=8)


def para(tag: str, n: int = 30) -> str:
    return " ".join(f"{tag}{i}" for i in range(n)) + "."


@pytest.fixture
def kb(data_dir: Path) -> KnowledgeBase:
    base = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=FakeEmbedder())
    yield base
    base.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "a.md").write_text(f"# Title\n\n{para('alpha')}\n\n{para('beta')}\n", encoding="utf-8")
    (root / "sub" / "b.txt").write_text(para("gamma"), encoding="utf-8")
    (root / "empty.txt").write_text("   \n", encoding="utf-8")
    for skipped in (".git", "node_modules", ".hidden"):
        (root / skipped).mkdir()
        (root / skipped / "secret.txt").write_text("skipme words", encoding="utf-8")
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    return root


def test_index_then_unchanged_costs_nothing(kb: KnowledgeBase, folder: Path):
    report = kb.index([folder])
    assert report.indexed == 2
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("empty.txt", "the file is empty")
    ]
    assert report.chunks_added == report.chunks_embedded > 2
    indexed = {Path(r.path).name: r for r in kb.file_records()}
    assert set(indexed) == {"a.md", "b.txt", "empty.txt"}  # hidden, vendored, .jpg skipped
    assert indexed["a.md"].content_hash == hash_file(folder / "a.md")
    assert indexed["empty.txt"].status == "error"
    assert kb.search_keyword("skipme", 5) == []

    kb.embedder.embedded_texts.clear()
    again = kb.index([folder])
    assert (again.indexed, again.unchanged, again.chunks_embedded) == (0, 3, 0)
    assert kb.embedder.embedded_texts == []


def test_touched_file_updates_record_without_extracting(kb: KnowledgeBase, folder: Path):
    kb.index([folder])
    target = folder / "sub" / "b.txt"
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    report = kb.index([target])
    assert (report.indexed, report.unchanged, report.chunks_embedded) == (0, 1, 0)
    assert kb.file_records(folder / "sub")[0].mtime_ns == st.st_mtime_ns + 5_000_000_000


def test_edit_reembeds_only_changed_chunks(kb: KnowledgeBase, folder: Path):
    kb.index([folder])
    target = folder / "a.md"
    kb.embedder.embedded_texts.clear()
    target.write_text(f"# Title\n\n{para('alpha')}\n\n{para('delta')}\n", encoding="utf-8")
    report = kb.index([target])
    assert report.indexed == 1
    assert report.chunks_embedded < report.chunks_added
    assert all("alpha" not in t for t in kb.embedder.embedded_texts)
    assert any("delta" in t for t in kb.embedder.embedded_texts)
    hits = kb.search_keyword("beta3", 5)
    assert hits == [], "old chunks of the edited file are gone"
    assert kb.search_keyword("delta3", 5)[0].path == str(target)


def test_copy_of_a_file_reuses_vectors(kb: KnowledgeBase, folder: Path):
    kb.index([folder])
    kb.embedder.embedded_texts.clear()
    (folder / "copy.txt").write_bytes((folder / "sub" / "b.txt").read_bytes())
    report = kb.index([folder])
    assert report.indexed == 1 and report.chunks_embedded == 0


def test_symlink_loop_and_missing_target(kb: KnowledgeBase, folder: Path):
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)
    report = kb.index([folder, folder / "nope"])
    assert report.indexed == 2
    assert ("nope", "no such file or folder") in [
        (Path(s.path).name, s.reason) for s in report.skipped
    ]
    assert all("/loop/" not in r.path for r in kb.file_records())


def test_progress_is_reported(kb: KnowledgeBase, folder: Path):
    seen: list[Progress] = []
    kb.index([folder], progress=seen.append)
    assert {"scanning", "extracting", "embedding", "writing", "done"} <= {p.phase for p in seen}
    assert seen[-1].done == seen[-1].total == 3


def test_progress_counts_files_once_embedded_and_moves_while_embedding(data_dir, tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(12):
        (root / f"f{i:02}.txt").write_text(para(f"w{i}x"), encoding="utf-8")
    emb = FakeEmbedder()
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=emb)
    seen: list[Progress] = []
    tuning = IndexerTuning(embed_group=10_000, embed_slice=2, write_rows=10_000)
    Indexer(kb.store, emb, SETTINGS, progress=seen.append, tuning=tuning).run([root])

    # Reading all 12 files is not most of the work: nothing is done until vectors exist.
    assert {p.done for p in seen if p.phase == "extracting"} == {0}
    embedding = [p.done for p in seen if p.phase == "embedding"]
    assert len(set(embedding)) > 3 and embedding == sorted(embedding)
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].done == seen[-1].total == 12


def test_cancel_leaves_a_consistent_index(data_dir: Path, tmp_path: Path):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(12):
        (root / f"f{i:02}.txt").write_text(para(f"w{i}x"), encoding="utf-8")
    cancel = threading.Event()
    emb = FakeEmbedder()
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=emb)
    tuning = IndexerTuning(embed_group=1, embed_slice=4, write_rows=1)

    def stop_after_five(p: Progress) -> None:
        if p.done >= 5:
            cancel.set()

    report = Indexer(
        kb.store, emb, SETTINGS, progress=stop_after_five, cancel=cancel, tuning=tuning
    ).run([root])
    assert report.cancelled and 0 < report.indexed < 12
    assert_consistent(kb, report.indexed)
    # The next run finishes the job.
    rest = kb.index([root])
    assert rest.indexed == 12 - report.indexed and rest.unchanged == report.indexed


def test_remove_and_move_through_the_facade(kb: KnowledgeBase, folder: Path):
    kb.index([folder])
    kb.embedder.embedded_texts.clear()
    new = folder.parent / "renamed"
    folder.rename(new)
    moved = kb.move(folder, new)
    assert moved > 0 and kb.embedder.embedded_texts == []
    assert {Path(r.path).parent.name for r in kb.file_records()} <= {"renamed", "sub"}
    assert kb.search_keyword("gamma4", 3)[0].path == str(new / "sub" / "b.txt")
    assert kb.index([new]).chunks_embedded == 0
    removed = kb.remove([new / "sub"])
    assert removed >= 1 and kb.search_keyword("gamma4", 3) == []
    status = kb.status()
    assert status.files == 1 and status.embedder == "fake-embedder"
    assert [Path(e.path).name for e in status.errors] == ["empty.txt"]


def test_remove_takes_files_folders_and_unknown_paths_in_one_call(
    kb: KnowledgeBase, folder: Path, tmp_path: Path
):
    other = tmp_path / "other"
    other.mkdir()
    for i in range(5):
        (other / f"n{i}.md").write_text(para(f"note{i}x"), encoding="utf-8")
    kb.index([folder, other])
    assert kb.store.indexed_among([str(other / "n1.md"), str(other), "/nowhere"]) == {
        str(other / "n1.md")
    }
    removed = kb.remove([other / "n1.md", folder / "sub", other / "n3.md", tmp_path / "nowhere"])
    assert removed == 3  # two one-chunk notes and b.txt
    left = sorted(Path(r.path).name for r in kb.file_records())
    assert left == ["a.md", "empty.txt", "n0.md", "n2.md", "n4.md"]
    assert kb.search_keyword("note3x0", 3) == [] and kb.search_keyword("gamma4", 3) == []


def test_search_can_be_limited_to_some_folders(kb: KnowledgeBase, folder: Path, tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.md").write_text(para("gamma", 12), encoding="utf-8")  # words of sub/b.txt too
    kb.index([folder, other])
    everywhere = {Path(h.path).name for h in kb.search("gamma4 gamma5", 10)}
    assert {"b.txt", "c.md"} <= everywhere
    only_other = kb.search("gamma4 gamma5", 10, folders=[str(other)])
    assert only_other and {Path(h.path).name for h in only_other} == {"c.md"}
    both = kb.search("gamma4", 10, folders=[str(other), str(folder / "sub")])
    assert {Path(h.path).name for h in both} == {"b.txt", "c.md"}
    assert kb.search("gamma4", 10, folders=[str(tmp_path / "nowhere")]) == []


def test_search_is_not_held_up_by_an_indexing_run(kb: KnowledgeBase, folder: Path, tmp_path: Path):
    kb.index([folder])
    more = tmp_path / "more"
    more.mkdir()
    (more / "c.txt").write_text(para("omega"), encoding="utf-8")
    in_run, release = threading.Event(), threading.Event()

    def pause_while_embedding(p: Progress) -> None:
        if p.phase == "embedding":
            in_run.set()
            release.wait(30)

    worker = threading.Thread(
        target=kb.index, args=([more],), kwargs={"progress": pause_while_embedding}
    )
    worker.start()
    try:
        assert in_run.wait(30)
        hits = kb.search("gamma4", 3)  # would deadlock if searches waited for the writer
        assert Path(hits[0].path).name == "b.txt"
        assert kb.search_keyword("omega3", 3) == []  # not committed yet
    finally:
        release.set()
        worker.join(30)
    assert Path(kb.search_keyword("omega3", 3)[0].path).name == "c.txt"


def test_walk_skips_venvs_ignored_patterns_and_reports_broken_links(tmp_path: Path):
    root = tmp_path / "w"
    (root / "env" / "lib").mkdir(parents=True)
    (root / "env" / "pyvenv.cfg").write_text("home = /usr", encoding="utf-8")
    (root / "env" / "lib" / "x.py").write_text("print(1)", encoding="utf-8")
    (root / "keep.py").write_text("print(2)", encoding="utf-8")
    (root / "build.log").write_text("noise", encoding="utf-8")
    (root / "dangling.md").symlink_to(root / "gone.md")
    (root / "alias.py").symlink_to(root / "keep.py")  # indexed once, under its target
    files, problems = walk_folder(root, IgnoreRules.from_patterns(["*.log"]))
    assert sorted(Path(p).name for p in files) == ["dangling.md", "keep.py"]
    assert files[str(root / "dangling.md")] == (0, 0) and problems == []


def test_cancel_cuts_a_running_pdf_extraction_short(kb: KnowledgeBase, tmp_path, monkeypatch):
    """Pause, remove and quit must not wait for the PDF child's time limit (60 s here)."""
    from desktop_rag.core.ingest import extract
    from desktop_rag.core.ingest.extract import ExtractLimits, PdfExtractor
    from tests.core.ingest.extract import workers
    from tests.core.ingest.extract.filegen import make_pdf

    docs = tmp_path / "slow"
    docs.mkdir()
    (docs / "a.md").write_text(para("alpha"))
    (docs / "b.pdf").write_bytes(make_pdf([["never finishes"]]))
    limits = ExtractLimits(pdf_timeout_s=60.0)
    pdf = PdfExtractor(limits, read_pages=workers.sleep_forever)
    real = extract.Extractor
    monkeypatch.setattr(extract, "Extractor", lambda lim: real(lim, pdf=pdf))
    cancel = threading.Event()

    def cancel_once_the_pdf_is_read(p: Progress) -> None:
        if p.current.endswith("b.pdf"):
            threading.Timer(0.5, cancel.set).start()

    try:
        started = time.monotonic()
        report = kb.index([docs], cancel=cancel, progress=cancel_once_the_pdf_is_read)
        took = time.monotonic() - started
    finally:
        pdf.close()
    assert report.cancelled and took < 10, took
    records = {Path(r.path).name: r for r in kb.file_records(docs)}
    assert "b.pdf" not in records  # not recorded as failed: it is read again next time
    assert not report.skipped


def test_a_reader_opened_before_the_tables_sees_them_and_a_rebuild(data_dir, tmp_path):
    """The chat's knowledge base is opened at start-up, often before the first indexing run
    creates the tables, and keeps its handle through a rebuild of the index."""
    import shutil

    reader = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=FakeEmbedder())
    writer = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=FakeEmbedder())
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kiwi.md").write_text("The kiwi orchard has nineteen rows. " + para("kiwi"))
    assert reader.search("kiwi orchard rows", 3) == []  # no tables yet
    writer.index([docs])
    assert [Path(h.path).name for h in reader.search("kiwi orchard rows", 3)] == ["kiwi.md"]
    # A rebuild deletes the tables under the reader's handles and makes new ones.
    writer.close()
    shutil.rmtree(AppPaths(data_dir).index_dir)
    assert reader.search("kiwi orchard rows", 3) == []
    (docs / "kiwi.md").unlink()
    (docs / "plum.md").write_text("The plum trees flower in April. " + para("plum"))
    rebuilt = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=FakeEmbedder())
    rebuilt.index([docs])
    assert [Path(h.path).name for h in reader.search("plum trees flower", 3)] == ["plum.md"]
    assert reader.status().files == 1
    rebuilt.close()
    reader.close()


def test_chunks_never_exceed_what_the_embedder_reads(data_dir, tmp_path):
    """A chunk size above the embedder's window would leave the chunk's tail unseen."""
    from desktop_rag.core.ingest.chunking import HEADING_TOKENS, SPECIAL_TOKENS

    embedder = FakeEmbedder(max_tokens=128)
    kb = KnowledgeBase(AppPaths(data_dir), Settings(chunk_tokens=1000, chunk_overlap=400),
                       embedder=embedder)  # fmt: skip
    docs = tmp_path / "long"
    docs.mkdir()
    (docs / "long.md").write_text(" ".join(f"word{i}" for i in range(3000)))
    kb.index([docs])
    texts = kb.store.scan_chunks(["text"])["text"].to_pylist()
    longest = max(len(embedder.token_offsets(t)) for t in texts)
    assert longest <= 128 - SPECIAL_TOKENS - HEADING_TOKENS
    assert len(texts) > 3000 // 128
    kb.close()


def test_a_pdf_cut_short_is_indexed_in_part_shown_and_read_whole_on_retry(
    data_dir, tmp_path, monkeypatch
):
    """A 400-page PDF read at 50 pages a second under a limit it cannot meet: the pages read
    are searchable with their page numbers, the file is listed with what was kept and which
    setting raises the limit, and a retry with a larger limit reads the rest."""
    from desktop_rag.core.ingest import extract
    from desktop_rag.core.ingest.extract import ExtractLimits, PdfExtractor
    from tests.core.ingest.extract import workers
    from tests.core.ingest.extract.filegen import make_pdf

    docs = tmp_path / "manuals"
    docs.mkdir()
    (docs / "manual-400.pdf").write_bytes(make_pdf([["stand-in"]]))
    real = extract.Extractor
    slow: list[PdfExtractor] = []

    def slow_extractor(limits):
        slow.append(PdfExtractor(limits, read_pages=workers.slow_pages))
        return real(limits, pdf=slow[-1])

    monkeypatch.setattr(extract, "Extractor", slow_extractor)
    tight = ExtractLimits(pdf_timeout_s=2.0, pdf_seconds_per_page=0.001)  # 2.4 s: ~120 pages
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=FakeEmbedder(), extract_limits=tight)
    seen: list[Progress] = []
    report = kb.index([docs], progress=seen.append)
    assert report.indexed == 1 and not report.skipped
    (partial,) = report.partial
    assert "only pages 1-" in partial.reason and "of 400 were read before the time limit" in (
        partial.reason
    )
    assert "PDF time limit" in partial.reason
    hit = kb.search_keyword("C00005", 1)[0]
    assert hit.page == 5 and "code C00005" in hit.text
    assert [e.reason for e in kb.status().errors] == [partial.reason]
    assert any(p.pages == 400 and p.page >= 25 for p in seen)  # progress shows pages
    kb.close()
    roomy = ExtractLimits(pdf_timeout_s=2.0, pdf_seconds_per_page=0.05)  # 22 s for 8 s of work
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=FakeEmbedder(), extract_limits=roomy)
    again = kb.index([docs], retry_failed=True)
    assert again.indexed == 1 and not again.partial
    assert kb.search_keyword("C00399", 1)[0].page == 399
    assert kb.status().errors == ()
    kb.close()
    for pdf in slow:
        pdf.close()


def assert_consistent(kb: KnowledgeBase, indexed: int) -> None:
    """After a cancelled run: a record for each file indexed, and exactly its chunks."""
    records = kb.file_records()
    assert len(records) == indexed
    chunk_paths = kb.store.chunk_paths_and_hashes().to_pylist()
    assert {r["path"] for r in chunk_paths} == {r.path for r in records}
    assert all(r.chunk_count == sum(c["path"] == r.path for c in chunk_paths) for r in records)
