"""Hybrid retrieval through the KnowledgeBase with the fake embedder and real LanceDB."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.errors import IndexMismatchError
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.settings import Settings

SETTINGS = Settings(chunk_tokens=30, chunk_overlap=6)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    tmp_path = tmp_path_factory.mktemp("retrieval")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "garden.txt").write_text(
        "Tomatoes need full sun and regular watering. Prune the side shoots weekly.",
        encoding="utf-8",
    )
    (docs / "car.txt").write_text(
        "Check the tyre pressure monthly. The engine oil should be changed every year.",
        encoding="utf-8",
    )
    (docs / "cooking.md").write_text(
        "# Sauce\n\nSimmer the tomatoes with garlic and olive oil for twenty minutes.",
        encoding="utf-8",
    )
    (docs / "backup").mkdir()
    (docs / "backup" / "garden copy.txt").write_bytes((docs / "garden.txt").read_bytes())
    (docs / "long.txt").write_text(
        " ".join(f"Line {i} talks about zebra migration patterns." for i in range(30)),
        encoding="utf-8",
    )
    base = KnowledgeBase(AppPaths(tmp_path / "data"), SETTINGS, embedder=FakeEmbedder())
    base.index([docs])
    yield base
    base.close()


def names(hits) -> list[str]:
    return [Path(h.path).name for h in hits]


def test_hybrid_ranks_the_matching_file_first(kb: KnowledgeBase):
    hits = kb.search("engine oil", k=3)
    assert names(hits)[0] == "car.txt"
    assert hits[0].score > 0 and hits[0].text.startswith("Check the tyre")
    assert names(kb.search("watering tomatoes", k=3))[0] in {"garden.txt", "garden copy.txt"}


def test_identical_files_and_overlapping_chunks_show_once(kb: KnowledgeBase):
    hits = kb.search("tomatoes sun watering prune", k=10)
    garden = [n for n in names(hits) if n.startswith("garden")]
    assert len(garden) == 1, names(hits)
    zebra = [h for h in kb.search("zebra migration", k=10) if h.path.endswith("long.txt")]
    spans = sorted((h.start, h.end) for h in zebra)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), spans


def test_dense_and_keyword_separately(kb: KnowledgeBase):
    assert names(kb.search_keyword("tyre", 3)) == ["car.txt"]
    assert names(kb.search_dense("garlic olive oil", 1)) == ["cooking.md"]
    assert kb.search_keyword("   ", 3) == [] and kb.search("", 3) == []


def test_heading_reaches_the_hit(kb: KnowledgeBase):
    hit = kb.search_keyword("garlic", 1)[0]
    assert hit.path.endswith("cooking.md")
    assert hit.text in Path(hit.path).read_text(encoding="utf-8")


def test_other_embedder_is_refused(kb: KnowledgeBase):
    other = KnowledgeBase(kb.paths, SETTINGS, embedder=FakeEmbedder(name="another-model"))
    with pytest.raises(IndexMismatchError, match="fake-embedder"):
        other.search("engine", 3)
    with pytest.raises(IndexMismatchError):
        other.index([Path(kb.file_records()[0].path)])
    assert other.status().embedder == "fake-embedder"  # status never needs the model


def test_empty_index_searches_return_nothing(data_dir: Path):
    kb = KnowledgeBase(AppPaths(data_dir), SETTINGS, embedder=FakeEmbedder())
    assert kb.search("anything", 5) == []
    st = kb.status()
    assert (st.files, st.chunks, st.errors, st.embedder) == (0, 0, (), None)


def test_hybrid_hits_carry_raw_dense_and_keyword_scores(tmp_path):
    """The answerer judges relevance on the cosine similarity, not the RRF rank score."""
    from desktop_rag.core.embedding.embedder import FakeEmbedder
    from desktop_rag.core.knowledge_base import KnowledgeBase
    from desktop_rag.core.paths import AppPaths

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The lighthouse keeper counts seagulls every morning.")
    kb = KnowledgeBase(AppPaths(tmp_path / "data").ensure(), embedder=FakeEmbedder())
    try:
        kb.index([folder])
        hits = kb.search("lighthouse seagulls", k=3)
    finally:
        kb.close()
    assert hits and hits[0].path.endswith("a.txt")
    assert hits[0].dense_score is not None and -1.0 <= hits[0].dense_score <= 1.0001
    assert hits[0].keyword_score is not None and hits[0].keyword_score > 0


def test_a_search_whose_rows_move_before_they_are_read_runs_again(tmp_path, monkeypatch):
    """The rows of the chunks kept are read after the search, by address; a file re-indexed
    and the table compacted in between (the app's sync beside a question) moves them, and
    the search runs once more on the new table instead of failing or showing old text."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The lighthouse keeper counts seagulls every morning.")
    (folder / "b.txt").write_text("Granite quarries supply the harbour wall.")
    kb = KnowledgeBase(AppPaths(tmp_path / "data").ensure(), SETTINGS, embedder=FakeEmbedder())
    try:
        kb.index([folder])
        store = kb.store
        real_read = store.chunk_rows
        reads = []

        def changed_first(found):
            if not reads:  # between the first search and its read: a sync re-indexes a.txt
                (folder / "a.txt").write_text("The lighthouse keeper now counts puffins.")
                kb.index([folder])
                store.optimize(force=True)
            reads.append(len(found))
            return real_read(found)

        monkeypatch.setattr(store, "chunk_rows", changed_first)
        hits = kb.search("lighthouse keeper", k=2)
    finally:
        kb.close()
    assert len(reads) >= 2  # the first read was refused, the search ran again
    assert hits[0].path.endswith("a.txt") and "puffins" in hits[0].text


def test_rows_are_read_in_growing_slices_until_enough_survive_deduplication(tmp_path):
    """Twelve identical copies rank first and collapse into one hit: the retriever reads
    further down the ranking (past the first 2k rows) to fill k distinct results."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(12):
        (folder / f"copy{i:02}.txt").write_text("Otters juggle pebbles on the riverbank.")
    (folder / "other.txt").write_text("Otters sleep holding hands on the river.")
    (folder / "third.txt").write_text("Pebbles on a riverbank are smoothed by water.")
    kb = KnowledgeBase(AppPaths(tmp_path / "data").ensure(), SETTINGS, embedder=FakeEmbedder())
    try:
        kb.index([folder])
        hits = kb.search("otters juggle pebbles riverbank", k=3)
        keyword = kb.search_keyword("otters juggle pebbles riverbank", k=3)
    finally:
        kb.close()
    assert sum(n.startswith("copy") for n in names(hits)) == 1
    assert {"other.txt", "third.txt"} <= set(names(hits)) and len(hits) == 3
    assert sum(n.startswith("copy") for n in names(keyword)) == 1 and len(keyword) == 3
