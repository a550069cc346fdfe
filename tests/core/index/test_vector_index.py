"""The approximate vector index on real LanceDB: when it is built, that searches through it
stay exact where it matters, upgrades, disk use and writes during a build."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.index import vector_index
from desktop_rag.core.index.schema import under_predicate
from desktop_rag.core.index.store import VECTOR_INDEX, Store
from desktop_rag.core.index.vector_index import Action, plan
from desktop_rag.core.index.versions import read_latest
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.records import Chunk, FileRecord
from desktop_rag.core.settings import Settings

DIM = 32
PER_FILE = 10
CENTRES = np.random.default_rng(99).normal(size=(40, DIM)).astype(np.float32)


def vectors(n: int, seed: int) -> np.ndarray:
    """Unit vectors around a few dozen centres, as text embeddings cluster by topic."""
    rng = np.random.default_rng(seed)
    v = CENTRES[rng.integers(0, len(CENTRES), n)] + rng.normal(scale=0.35, size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def items(first_file: int, files: int, seed: int, folder: str = "/docs"):
    vecs = vectors(files * PER_FILE, seed)
    out = []
    for f in range(files):
        path = f"{folder}/area{(first_file + f) % 4}/file{first_file + f:05}.md"
        chunks = [
            (Chunk(path, j, f"passage {j} of {path}", 0, 10, content_hash=f"{path}#{j}"),
             vecs[f * PER_FILE + j])
            for j in range(PER_FILE)
        ]  # fmt: skip
        out.append(
            (FileRecord(path, 1, 1, f"h{first_file + f}", "indexed", None, PER_FILE), chunks)
        )
    return out


def fill(store: Store, files: int, first: int = 0, seed: int = 0) -> None:
    for start in range(first, first + files, 100):
        store.write_files(items(start, min(100, first + files - start), seed + start))


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "index", vector_index_min_rows=3000)
    s.ensure_tables("fake#1", DIM)
    return s


def has_vector_index(store: Store) -> bool:
    return VECTOR_INDEX in {i.name for i in store._chunks.list_indices()}


def test_plan_builds_past_the_threshold_and_retrains_after_growth():
    assert plan(19_999, None, min_rows=20_000) is Action.NONE
    assert plan(20_000, None, min_rows=20_000) is Action.BUILD
    assert plan(39_999, 20_000, min_rows=20_000) is Action.NONE
    assert plan(40_000, 20_000, min_rows=20_000) is Action.RETRAIN
    assert vector_index.partitions(100) == 1
    assert vector_index.partitions(1_000_000) == 4


def test_no_vector_index_below_the_threshold_one_above(store: Store):
    fill(store, 200)  # 2,000 chunks
    assert store.update_vector_index() is Action.NONE
    assert not has_vector_index(store)
    fill(store, 200, first=200)  # 4,000
    assert store.update_vector_index() is Action.BUILD
    assert has_vector_index(store)
    assert store.vector_index_rows() == 4000
    assert store.update_vector_index() is Action.NONE  # current: nothing to do
    fill(store, 400, first=400)  # 8,000: grown twofold since training
    assert store.update_vector_index() is Action.RETRAIN
    assert store.vector_index_rows() == 8000


def test_indexed_search_equals_exact_and_distance_is_true_cosine(store: Store):
    fill(store, 400)
    store.update_vector_index()
    assert has_vector_index(store)
    table = store.scan_chunks(["id", "vector"])
    ids = table["id"].to_pylist()
    stored = np.stack(table["vector"].to_numpy(zero_copy_only=False)).astype(np.float32)
    for q in vectors(20, seed=12345):
        approx = store.search_vector(q, 10)
        exact = store.search_vector(q, 10, exact=True)
        assert [r["id"] for r in approx] == [r["id"] for r in exact]
        for row in approx:
            cosine = float(stored[ids.index(row["id"])] @ q)
            assert row["_distance"] == pytest.approx(1.0 - cosine, abs=1e-4)


def test_folder_filter_still_correct_with_the_index(store: Store):
    fill(store, 400)
    store.update_vector_index()
    where = under_predicate("/docs/area2")
    for q in vectors(10, seed=777):
        approx = store.search_vector(q, 10, where)
        exact = store.search_vector(q, 10, where, exact=True)
        assert len(approx) == 10
        assert all(r["path"].startswith("/docs/area2/") for r in approx)
        assert [r["id"] for r in approx] == [r["id"] for r in exact]


def test_writes_during_a_build_are_kept_and_found(store: Store):
    fill(store, 400)
    done = threading.Event()
    result: list[Action] = []

    def build() -> None:
        result.append(store.update_vector_index())
        done.set()

    worker = threading.Thread(target=build)
    worker.start()
    written = 0
    while not done.is_set() or written == 0:
        store.write_files(items(10_000 + written, 1, seed=50_000 + written))
        written += 1
    worker.join()
    assert result == [Action.BUILD] and has_vector_index(store)
    assert store.counts().chunks == (400 + written) * PER_FILE
    # Each new chunk is found by its own vector, indexed or not yet.
    last = items(10_000 + written - 1, 1, seed=50_000 + written - 1)[0][1]
    hit = store.search_vector(last[3][1], 1)[0]
    assert hit["id"].endswith("-3") and hit["path"].endswith(f"file{10_000 + written - 1:05}.md")
    assert hit["_distance"] == pytest.approx(0.0, abs=1e-4)
    store.optimize(force=True)  # folds them in; still all there
    assert store.counts().chunks == (400 + written) * PER_FILE


def test_old_versions_are_cleaned_so_disk_stays_bounded(tmp_path):
    churned = Store(tmp_path / "churned", vector_index_min_rows=3000)
    churned.ensure_tables("fake#1", DIM)
    for cycle in range(6):  # rewrite the same 2,000 chunks, as edits do, and optimize
        fill(churned, 200, seed=cycle)
        churned.optimize(force=True)
        churned.update_vector_index()
    once = Store(tmp_path / "once", vector_index_min_rows=3000)
    once.ensure_tables("fake#1", DIM)
    fill(once, 200)
    once.optimize(force=True)
    # Six rewrites and optimizes leave about what one write does, not six times it.
    assert churned.counts().chunks == once.counts().chunks == 2000
    assert churned.size_bytes() < 1.5 * once.size_bytes()


def test_a_search_that_lost_its_version_is_run_again():
    calls = []

    def flaky() -> list[dict]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("LanceError(IO): Not found: chunks.lance/data/x.lance")
        return [{"path": "/a"}]

    assert read_latest(flaky) == [{"path": "/a"}] and len(calls) == 2
    with pytest.raises(ValueError):
        read_latest(lambda: (_ for _ in ()).throw(ValueError("bad query")))


def test_an_index_from_before_gets_its_vector_index_and_tiny_ones_none(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    words = ["river", "orchard", "harbor", "glacier", "bakery"]
    words += ["bridge", "cave", "market", "reef", "desert"]
    for i in range(120):
        text = " ".join(words[(i + j) % len(words)] for j in range(8))
        (docs / f"note{i:03}.md").write_text(f"# Note {i}\n\n{text} number {i}.\n")
    paths = AppPaths(tmp_path / "data")
    monkeypatch.setattr(vector_index, "MIN_ROWS", 10**9)  # as before this change: none
    kb = KnowledgeBase(paths, Settings(), embedder=FakeEmbedder(dim=DIM))
    kb.index([docs])
    assert kb.store.counts().chunks == 120 and not has_vector_index(kb.store)
    assert kb.search("harbor glacier number 7")  # tiny and unindexed: works
    kb.close()
    monkeypatch.setattr(vector_index, "MIN_ROWS", 100)
    kb = KnowledgeBase(paths, Settings(), embedder=FakeEmbedder(dim=DIM))
    report = kb.index([docs])  # nothing changed: only the index is built, in the background
    assert report.chunks_embedded == 0
    assert kb.wait_for_vector_index(60) and has_vector_index(kb.store)
    query = "river orchard harbor glacier bakery bridge cave market"
    hits = kb.search_dense(query, 3)
    exact = kb.store.search_vector(kb.embed_texts([query])[0], 3, exact=True)
    assert [h.chunk_id for h in hits] == [r["id"] for r in exact]


def test_the_build_runs_beside_writes_and_a_request_during_it_is_kept(tmp_path, monkeypatch):
    """The index run returns before the build ends; a second run during the build writes at
    once, and its request to check the index again is served when the build ends."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(150):
        (docs / f"n{i:03}.md").write_text(f"# Note {i}\n\nriver orchard harbor {i}.\n")
    monkeypatch.setattr(vector_index, "MIN_ROWS", 100)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []
    original = Store.update_vector_index

    def slow_build(store):
        calls.append("build")
        started.set()
        release.wait(30)
        return original(store)

    monkeypatch.setattr(Store, "update_vector_index", slow_build)
    kb = KnowledgeBase(AppPaths(tmp_path / "data"), Settings(), embedder=FakeEmbedder(dim=DIM))
    kb.index([docs])
    assert started.wait(30) and kb.building_vector_index
    (docs / "late.md").write_text("# Late\n\nglacier bakery written during the build.\n")
    report = kb.index([docs])  # not held up by the build
    assert report.indexed == 1 and kb.building_vector_index
    release.set()
    assert kb.wait_for_vector_index(60)
    assert calls == ["build", "build"]  # the second run's request, after the first build
    assert has_vector_index(kb.store)
    assert kb.search("glacier bakery")[0].path.endswith("late.md")
    kb.close()
