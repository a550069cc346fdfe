"""The LanceDB store on a temp folder: writes, prefix-safe deletes and moves, repair."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_rag.core.errors import IndexMismatchError
from desktop_rag.core.index.schema import sql_str, under_predicate
from desktop_rag.core.index.store import StaleRows, Store
from desktop_rag.core.ingest.chunking import content_hash
from desktop_rag.core.records import Chunk, FileRecord

DIM = 8


def vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def file_item(path: str, texts: list[str], file_hash: str | None = None, seed: int = 0):
    chunks, pos = [], 0
    for i, text in enumerate(texts):
        chunks.append(Chunk(path, i, text, pos, pos + len(text), None, (), content_hash(text)))
        pos += len(text) + 1
    record = FileRecord(path, 100, 1, file_hash or f"h-{path}", "indexed", None, len(texts), "text")
    return record, [(c, vec(seed + i)) for i, c in enumerate(chunks)]


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "index")
    s.ensure_tables("fake#1", DIM)
    return s


def paths_of(store: Store) -> list[str]:
    return sorted(set(store.chunk_paths_and_hashes()["path"].to_pylist()))


def test_manifest_refuses_another_embedder(tmp_path):
    s = Store(tmp_path / "index")
    assert s.manifest is None and not s.ready
    s.ensure_tables("model-a#1", DIM)
    again = Store(tmp_path / "index")
    assert again.ready and again.manifest.embedder == "model-a#1" and again.manifest.dim == DIM
    again.check_embedder("model-a#1")
    with pytest.raises(IndexMismatchError, match=r"model-a#1.*re-index"):
        again.ensure_tables("model-b#2", DIM)


def test_write_read_and_replace(store: Store):
    store.write_files(
        [file_item("/d/a.txt", ["alpha one", "alpha two"]), file_item("/d/b.txt", ["beta"])]
    )
    assert store.counts().files == 2 and store.counts().chunks == 3
    records = {r.path: r for r in store.get_files()}
    assert records["/d/a.txt"].chunk_count == 2 and records["/d/a.txt"].status == "indexed"
    # Re-writing a file replaces its chunks (none of the old ones remain).
    store.write_files([file_item("/d/a.txt", ["alpha new"], file_hash="h2")])
    rows = store.chunk_paths_and_hashes().to_pylist()
    assert sorted((r["path"], r["file_hash"]) for r in rows) == [
        ("/d/a.txt", "h2"),
        ("/d/b.txt", "h-/d/b.txt"),
    ]
    assert store.get_file("/d/a.txt").content_hash == "h2"


def test_error_record_removes_old_chunks(store: Store):
    store.write_files([file_item("/d/a.txt", ["alpha"])])
    bad = FileRecord("/d/a.txt", 5, 2, "h9", "error", "the file is empty", 0, "text")
    store.write_files([(bad, [])])
    assert store.counts().chunks == 0 and store.counts().errors == 1
    assert store.get_file("/d/a.txt").error == "the file is empty"


def test_vectors_by_content_hash(store: Store):
    record, chunks = file_item("/d/a.txt", ["same text", "other text"], seed=5)
    store.write_files([(record, chunks)])
    h_same = content_hash("same text")
    found = store.vectors_by_content_hash("/d/a.txt", [h_same, "missing"])
    assert list(found) == [h_same]
    np.testing.assert_allclose(found[h_same], vec(5), rtol=1e-6)
    assert store.vectors_by_content_hash("/d/other.txt", [h_same]) == {}
    assert list(store.vectors_by_content_hash(None, [h_same])) == [h_same]


def test_delete_under_is_prefix_safe(store: Store):
    store.write_files(
        [file_item(p, ["x " + p]) for p in ("/a/b/1.txt", "/a/b/c/2.txt", "/a/bc/3.txt", "/a/b")]
    )
    removed = store.delete_under("/a/b")
    assert removed == 3
    assert paths_of(store) == ["/a/bc/3.txt"]
    assert [r.path for r in store.get_files()] == ["/a/bc/3.txt"]


def test_delete_paths_with_quotes(store: Store):
    odd = "/d/O'Brien's \"notes\".txt"
    store.write_files([file_item(odd, ["irish"]), file_item("/d/keep.txt", ["keep"])])
    assert store.delete_paths([odd]) == 1
    assert paths_of(store) == ["/d/keep.txt"]


def test_move_path_keeps_vectors_and_renames_keywords(store: Store):
    record, chunks = file_item("/d/draft.txt", ["the quarterly numbers"], seed=3)
    store.write_files([(record, chunks)])
    new = "/e/O'Neil Budget_2024.txt"
    moved = store.move_path("/d/draft.txt", new)
    assert moved == 1
    assert [r.path for r in store.get_files()] == [new]
    rows = store.search_vector(vec(3), 5)
    assert rows[0]["path"] == new and rows[0]["_distance"] < 1e-5
    assert [r["path"] for r in store.search_keyword("budget", 5)] == [new]
    assert store.search_keyword("draft", 5) == []


def test_move_path_over_existing_file_replaces_it(store: Store):
    store.write_files([file_item("/d/a.txt", ["new content"]), file_item("/d/b.txt", ["old b"])])
    store.move_path("/d/a.txt", "/d/b.txt")
    assert [r.path for r in store.get_files()] == ["/d/b.txt"]
    assert store.search_keyword("old", 5) == []
    assert store.counts().chunks == 1


def test_move_under_is_prefix_safe(store: Store):
    store.write_files(
        [file_item(p, ["text " + p]) for p in ("/a/b/1.txt", "/a/b/sub/2.txt", "/a/bc/3.txt")]
    )
    moved = store.move_under("/a/b", "/z/it's new")
    assert moved == 2
    assert paths_of(store) == ["/a/bc/3.txt", "/z/it's new/1.txt", "/z/it's new/sub/2.txt"]
    assert [r.path for r in store.get_files("/z/it's new")] == [
        "/z/it's new/1.txt",
        "/z/it's new/sub/2.txt",
    ]


def test_keyword_search_english_stemming_and_cjk(store: Store):
    store.write_files(
        [
            file_item("/d/en.txt", ["The engines were running smoothly all night."]),
            file_item("/d/zh.txt", ["向量数据库支持全文检索和混合搜索。"]),
            file_item("/d/ja.txt", ["東京の天気は晴れです。"]),
            file_item("/d/cpp.txt", ["Templates in C++ programs"]),
        ]
    )
    assert store.search_keyword("engine runs", 3)[0]["path"] == "/d/en.txt"
    assert store.search_keyword("全文检索", 3)[0]["path"] == "/d/zh.txt"
    assert store.search_keyword("天気", 3)[0]["path"] == "/d/ja.txt"
    # Queries with operators or quotes are words, never syntax errors.
    assert store.search_keyword('"C++" templates AND (x OR', 3)[0]["path"] == "/d/cpp.txt"


def test_interrupted_write_is_repaired_on_open(tmp_path, monkeypatch: pytest.MonkeyPatch):
    store = Store(tmp_path / "index")
    store.ensure_tables("fake#1", DIM)
    store.write_files([file_item("/d/a.txt", ["version one"], file_hash="v1")])

    def killed(records):
        raise KeyboardInterrupt("killed between chunks and records")

    monkeypatch.setattr(store, "_merge_records", killed)
    with pytest.raises(KeyboardInterrupt):
        store.write_files([file_item("/d/a.txt", ["version two", "more"], file_hash="v2")])
    assert store.counts().chunks == 3  # new chunks landed, record still says v1

    reopened = Store(tmp_path / "index")
    rows = reopened.chunk_paths_and_hashes().to_pylist()
    assert [(r["path"], r["file_hash"]) for r in rows] == [("/d/a.txt", "v1")]
    assert reopened.get_file("/d/a.txt").content_hash == "v1"
    assert not (tmp_path / "index" / "write-in-progress").exists()


def test_sql_helpers():
    assert sql_str("it's") == "'it''s'"
    assert "starts_with(path, '/a/b/')" in under_predicate("/a/b/")


def test_predicate_columns_get_btree_indexes_also_on_an_older_index(tmp_path):
    store = Store(tmp_path / "index")
    store.ensure_tables("fake#1", DIM)
    names = {i.name for i in store._chunks.list_indices()}
    assert {"path_idx", "content_hash_idx"} <= names
    assert "path_idx" in {i.name for i in store._files.list_indices()}
    # An index made before them: the indexes are added when a writer next opens it.
    store._chunks.drop_index("path_idx")
    store._files.drop_index("path_idx")
    store.write_files([file_item("/d/a.txt", ["alpha beta"], file_hash="v1")])
    store.ensure_scalar_indexes()
    assert "path_idx" in {i.name for i in store._chunks.list_indices()}
    assert "path_idx" in {i.name for i in store._files.list_indices()}
    assert store.get_file("/d/a.txt").content_hash == "v1"
    assert store.delete_paths(["/d/a.txt"]) == 1 and store.counts().chunks == 0


def test_searches_return_ids_and_chunk_rows_reads_the_rest(store: Store):
    store.write_files([file_item("/d/a.txt", ["alpha river", "beta mountain"], seed=1)])
    found = store.search_vector(vec(1), 2, columns=("id",))
    assert set(found[0]) == {"id", "_rowid", "_distance"}
    assert found[0]["_distance"] == pytest.approx(0.0, abs=1e-5)
    keyword = store.search_keyword("mountain", 2, columns=("id",))
    assert set(keyword[0]) == {"id", "_rowid", "_score"}
    rows = store.chunk_rows([(r["_rowid"], r["id"]) for r in found])
    assert {rows[r["id"]]["text"] for r in found} == {"alpha river", "beta mountain"}
    assert rows[found[0]["id"]]["path"] == "/d/a.txt"


def test_chunk_rows_says_when_rows_moved_since_the_search(store: Store):
    """A re-index and compaction between a search and the read of its rows: the addresses
    the search gave are no longer those chunks'; the caller is told, not misled."""
    store.write_files([file_item("/d/a.txt", ["alpha river"], seed=1)])
    store.write_files([file_item("/d/b.txt", ["gamma lake"], seed=5)])
    found = store.search_vector(vec(1), 1, columns=("id",))
    store.write_files([file_item("/d/a.txt", ["alpha river, again"], seed=1)])  # re-indexed
    store.optimize(force=True)  # compaction: new fragments, new addresses
    with pytest.raises(StaleRows):
        store.chunk_rows([(r["_rowid"], r["id"]) for r in found])
