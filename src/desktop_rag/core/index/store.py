"""The on-disk index: LanceDB tables `chunks` and `files`, plus a manifest of the embedder.

Crash safety comes from the order of writes, never from transactions (LanceDB commits
each operation on its own):
- writing a file: its new chunks are added first, then its record, then its old chunks
  are deleted. A kill in between leaves extra chunks that `repair()` removes, never a
  file marked indexed without its chunks.
- deleting: records first, then chunks (orphans are again what `repair()` removes).
- moving: chunks first, then records.
Every predicate is built with `sql_str`, since paths may contain quotes.

Not thread-safe for writes: one owner (the KnowledgeBase's lock) serialises them. Searches
and `update_vector_index` may run beside a writer: LanceDB commits are versioned, readers
see the last committed version, and a build's commit lands after the writes made meanwhile.
Versions replaced by compaction are deleted at once; see `versions`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lancedb.index import FTS, BTree
from lancedb.query import BooleanQuery, FullTextQuery, MatchQuery, MultiMatchQuery, Occur
from lancedb.table import Table

from desktop_rag.core.errors import IndexMismatchError
from desktop_rag.core.index import vector_index
from desktop_rag.core.index.keyword_terms import cjk_query_terms, cjk_terms, has_cjk, name_words
from desktop_rag.core.index.schema import (
    FILE_SCHEMA,
    MANIFEST,
    RESULT_COLUMNS,
    Manifest,
    batches,
    chunk_schema,
    in_list,
    read_manifest,
    sql_str,
    under_predicate,
    write_manifest,
)
from desktop_rag.core.index.vector_index import Action, index_config, plan, search_params
from desktop_rag.core.index.versions import (
    lost_version,
    optimize_table,
    read_latest,
    read_trained_rows,
    write_trained_rows,
)
from desktop_rag.core.index.write_marker import IndexWriteLock
from desktop_rag.core.path_keys import display_path, from_storage, to_storage
from desktop_rag.core.records import Chunk, FileRecord

log = logging.getLogger(__name__)

# Optimizing rewrites data and rebuilds index segments: worth it only once this much
# has piled up (a watcher's one-file updates would otherwise pay it on every save).
OPTIMIZE_FRAGMENTS = 24
OPTIMIZE_UNINDEXED_ROWS = 2000
# ...or this share of the table: folding rows into the keyword indexes costs time in
# proportion to the table, so a big table folds in bigger, rarer steps (unindexed rows are
# still searched, by brute force).
OPTIMIZE_UNINDEXED_SHARE = 0.05
VECTOR_INDEX = "vector_idx"
# Columns named by predicates (`path = …`, `IN (…)`, folder filters, vector reuse by hash).
SCALAR_INDEXES = {"chunks": ("path", "content_hash"), "files": ("path",)}


@dataclass(frozen=True)
class StoreCounts:
    files: int
    chunks: int
    errors: int


@dataclass(frozen=True)
class Recovery:
    """What `Store.recover` did after a writer was killed mid-write."""

    stale_chunks_removed: int = 0
    requeued: tuple[str, ...] = ()  # records dropped (chunks incomplete): to index again


def _opened(table: Table | None) -> Table:
    """`table`, for code that has checked `Store.ready`; a clear error if it has not."""
    if table is None:
        raise RuntimeError("the index tables are not open (Store.ready is False)")
    return table


class Store:
    def __init__(
        self,
        index_dir: Path,
        *,
        on_wait: Callable[[str], None] | None = None,
        vector_index_min_rows: int | None = None,
    ):
        """`on_wait(message)`: told when another process holds the write lock for long;
        `vector_index_min_rows`: chunks from which an approximate vector index pays
        (default `vector_index.MIN_ROWS`, read when the store opens)."""
        self.index_dir = Path(index_dir)
        self.vector_index_min_rows = (
            vector_index.MIN_ROWS if vector_index_min_rows is None else vector_index_min_rows
        )
        # Compaction and a vector index build must not run together (the build's commit
        # would conflict with the rewritten fragments): one at a time in this process.
        self._maintenance = threading.Lock()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        # Interval 0: see writes of another process (the CLI beside the app) at once.
        self._db = lancedb.connect(self.index_dir, read_consistency_interval=timedelta(0))
        # Both None until the tables exist; code that has checked `ready` reads them through
        # `_chunk_table` and `_file_table`.
        self._chunks: Table | None = None
        self._files: Table | None = None
        self._generation: tuple[int, int] | None = None
        # One writer at a time across processes; a killed writer's marker means repair.
        self._lock = IndexWriteLock(self.index_dir, on_wait)
        if self.ready:
            self.recover()

    # -- manifest -------------------------------------------------------------------

    @property
    def manifest(self) -> Manifest | None:
        return read_manifest(self.index_dir)

    def check_embedder(self, name: str) -> None:
        """Raise IndexMismatchError if the index was built by another model."""
        manifest = self.manifest
        if manifest is not None and manifest.embedder != name:
            raise IndexMismatchError(
                f"the index was built with the embedding model '{manifest.embedder}', "
                f"but '{name}' is selected",
                hint="switch back to that model in Settings, or re-index your folders "
                "with the new model (delete the index and index again)",
            )

    def ensure_tables(self, embedder_name: str, dim: int, variant: str = "torch") -> None:
        """Create the tables for this embedder, or check that existing ones match it.
        `variant` (the embedder's runtime) is recorded in a new index's manifest only."""
        self.check_embedder(embedder_name)
        if self.ready:
            return
        with self._lock.writing():
            self._create_tables(embedder_name, dim, variant)

    def _create_tables(self, embedder_name: str, dim: int, variant: str) -> None:
        self.check_embedder(embedder_name)  # another process may have created them meanwhile
        if self.ready:
            return
        chunks = self._db.create_table("chunks", schema=chunk_schema(dim), exist_ok=True)
        files = self._db.create_table("files", schema=FILE_SCHEMA, exist_ok=True)
        english = FTS(base_tokenizer="simple", language="English", stem=True)
        chunks.create_index("text", config=english, replace=True)
        chunks.create_index("context", config=english, replace=True)
        cjk = FTS(
            base_tokenizer="whitespace",
            stem=False,
            remove_stop_words=False,
            lower_case=False,
            ascii_folding=False,
            max_token_length=8,
        )
        chunks.create_index("cjk", config=cjk, replace=True)
        self._create_scalar_indexes(chunks, files)
        write_manifest(self.index_dir, Manifest(embedder_name, dim, variant=variant))
        self._generation = self._manifest_identity()
        self._chunks, self._files = chunks, files

    def ensure_scalar_indexes(self) -> None:
        """B-tree indexes on the columns every predicate names, for an index made before
        they existed. At 100,000 chunks they take a `path = …` lookup from 8 to 3 ms and a
        search limited to one folder from 320 to 50 ms (benchmarks/sync.py)."""
        if not self.ready:
            return
        for table, columns in (
            (self._chunk_table, SCALAR_INDEXES["chunks"]),
            (self._file_table, SCALAR_INDEXES["files"]),
        ):
            missing = {f"{c}_idx" for c in columns} - {i.name for i in table.list_indices()}
            if missing:
                with self._lock.exclusive():
                    self._create_scalar_indexes(self._chunk_table, self._file_table)
                return

    @staticmethod
    def _create_scalar_indexes(chunks, files) -> None:
        for table, columns in (
            (chunks, SCALAR_INDEXES["chunks"]),
            (files, SCALAR_INDEXES["files"]),
        ):
            for column in columns:
                table.create_index(column, config=BTree(), replace=True)

    @property
    def ready(self) -> bool:
        """Whether the tables exist. Asked again on every use: another handle (the index
        thread, the CLI) may have created them since this one opened, or a rebuild may have
        replaced them; the manifest, rewritten with each new pair of tables, tells."""
        generation = self._manifest_identity()
        if generation != self._generation:
            self._generation = generation
            self._chunks = self._files = None
            if generation is not None:
                names = set(self._db.list_tables().tables)
                if "chunks" in names and "files" in names:
                    self._chunks = self._db.open_table("chunks")
                    self._files = self._db.open_table("files")
        return self._chunks is not None

    @property
    def _chunk_table(self) -> Table:
        return _opened(self._chunks)

    @property
    def _file_table(self) -> Table:
        return _opened(self._files)

    def _manifest_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.index_dir / MANIFEST)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    # -- writing --------------------------------------------------------------------

    def write_files(self, items: Sequence[tuple[FileRecord, Sequence[tuple[Chunk, np.ndarray]]]]):
        """Replace several files' chunks and records in a few LanceDB operations."""
        if not items:
            return
        self._require()
        batch = time.time_ns()
        rows = [
            self._chunk_row(chunk, vector, record.content_hash, batch)
            for record, chunks in items
            for chunk, vector in chunks
        ]
        with self._lock.writing():
            if rows:
                self._chunk_table.add(pa.Table.from_pylist(rows, schema=self._chunk_table.schema))
            self._merge_records([record for record, _ in items])
            paths = [record.path for record, _ in items]
            for part in batches(paths):
                self._chunk_table.delete(f"{in_list('path', part)} AND batch < {batch}")

    def put_records(self, records: Sequence[FileRecord]) -> None:
        """Insert or update file records only (a new mtime of unchanged content)."""
        if records:
            self._require()
            with self._lock.writing():
                self._merge_records(records)

    def _merge_records(self, records: Sequence[FileRecord]) -> None:
        now = time.time()
        rows = [
            {
                **r.__dict__,
                "path": to_storage(r.path),
                # A reason may quote a name that is not UTF-8: stored as a person reads it.
                "error": display_path(r.error) if r.error else r.error,
                "indexed_at": now,
            }
            for r in records
        ]
        table = pa.Table.from_pylist(rows, schema=FILE_SCHEMA)
        merge = self._file_table.merge_insert("path").when_matched_update_all()
        merge.when_not_matched_insert_all().execute(table)

    @staticmethod
    def _chunk_row(chunk: Chunk, vector: np.ndarray, file_hash: str, batch: int) -> dict:
        context = name_words(display_path(chunk.path))
        keyword_text = chunk.text + " " + context
        return {
            "id": f"{file_hash[:16]}-{batch:x}-{chunk.ordinal}",
            "path": to_storage(chunk.path),
            "ordinal": chunk.ordinal,
            "text": chunk.text,
            "context": context,
            "cjk": cjk_terms(keyword_text) if has_cjk(keyword_text) else "",
            "vector": np.asarray(vector, dtype=np.float32),
            "start": chunk.start,
            "end": chunk.end,
            "page": chunk.page,
            "heading_path": list(chunk.heading_path),
            "content_hash": chunk.content_hash,
            "file_hash": file_hash,
            "batch": batch,
        }

    def delete_paths(self, paths: Sequence[str]) -> int:
        """Forget these files; returns the number of chunks removed."""
        paths = list(paths)
        if not self.ready or not paths:
            return 0
        removed = 0
        with self._lock.writing():
            for part in batches(paths):
                self._file_table.delete(in_list("path", part))
            for part in batches(paths):
                predicate = in_list("path", part)
                removed += self._chunk_table.count_rows(predicate)
                self._chunk_table.delete(predicate)
        return removed

    def delete_under(self, folder: str) -> int:
        """Forget a folder and everything below it; returns the number of chunks removed."""
        if not self.ready:
            return 0
        predicate = under_predicate(folder)
        with self._lock.writing():
            self._file_table.delete(predicate)
            removed = self._chunk_table.count_rows(predicate)
            self._chunk_table.delete(predicate)
        return removed

    def move_path(self, old: str, new: str) -> int:
        """Rename one file in both tables without re-embedding; returns chunks moved.

        Whatever was indexed at `new` is replaced (a move over an existing file).
        """
        if not self.ready or old == new:
            return 0
        where = f"path = {sql_str(old)}"
        moved = self._chunk_table.count_rows(where)
        if moved == 0 and self.get_file(old) is None:
            return 0
        self.delete_paths([new])
        with self._lock.writing():
            stored = to_storage(new)
            context = name_words(display_path(new))
            self._chunk_table.update(where=where, values={"path": stored, "context": context})
            self._file_table.update(where=where, values={"path": stored})
        return moved

    def move_under(self, old_folder: str, new_folder: str) -> int:
        """Rename a folder's prefix in both tables without re-embedding; returns chunks moved."""
        old = old_folder.rstrip("/\\")
        new_root = new_folder.rstrip("/\\")
        if not self.ready or old == new_root:
            return 0
        where = under_predicate(old)
        records = self.get_files(old)
        if not records:
            return 0
        self.delete_paths([new_root + r.path[len(old) :] for r in records])
        new_path = f"concat({sql_str(new_root)}, substr(path, {len(old) + 1}))"
        with self._lock.writing():
            moved = self._chunk_table.count_rows(where)
            self._chunk_table.update(where=where, values_sql={"path": new_path})
            self._file_table.update(where=where, values_sql={"path": new_path})
        return moved

    # -- reading --------------------------------------------------------------------

    def get_files(
        self, under: str | None = None, *, status: str | None = None, noted: bool = False
    ) -> list[FileRecord]:
        """File records, sorted by path: all, or those at/under a folder, or of one status;
        `noted`: only those with a reason (failed, or indexed only in part)."""
        if not self.ready:
            return []
        where = [under_predicate(under)] if under is not None else []
        if status is not None:
            where.append(f"status = {sql_str(status)}")
        if noted:
            where.append("error IS NOT NULL AND error != ''")
        query = self._file_table.search()
        if where:
            query = query.where(" AND ".join(where))
        rows = query.limit(None).to_arrow().to_pylist()
        return sorted((_record(row) for row in rows), key=lambda r: r.path)

    def get_file(self, path: str) -> FileRecord | None:
        if not self.ready:
            return None
        rows = self._file_table.search().where(f"path = {sql_str(path)}").limit(1).to_list()
        return _record(rows[0]) if rows else None

    def indexed_among(self, paths: Sequence[str]) -> set[str]:
        """Which of these paths have a file record (one query per batch, not per path)."""
        if not self.ready or not paths:
            return set()
        found: set[str] = set()
        for part in batches(list(paths)):
            rows = self._file_table.search().where(in_list("path", part)).select(["path"])
            found.update(map(from_storage, rows.limit(len(part)).to_arrow()["path"].to_pylist()))
        return found

    def vectors_by_content_hash(
        self, path: str | None, hashes: Iterable[str]
    ) -> dict[str, np.ndarray]:
        """Stored vectors for chunk content hashes (of `path`, or of any file if None)."""
        wanted = sorted(set(hashes))
        if not self.ready or not wanted:
            return {}
        found: dict[str, np.ndarray] = {}
        for part in batches(wanted):
            where = in_list("content_hash", part)
            if path is not None:
                where += f" AND path = {sql_str(path)}"
            table = (
                self._chunk_table.search()
                .where(where)
                .select(["content_hash", "vector"])
                .limit(None)
            ).to_arrow()
            vectors = table["vector"].combine_chunks().flatten().to_numpy()
            vectors = vectors.reshape(len(table), -1) if len(table) else vectors
            for i, digest in enumerate(table["content_hash"].to_pylist()):
                found.setdefault(digest, vectors[i].astype(np.float32))
        return found

    def counts(self) -> StoreCounts:
        if not self.ready:
            return StoreCounts(0, 0, 0)
        return StoreCounts(
            files=self._file_table.count_rows("status = 'indexed'"),
            chunks=self._chunk_table.count_rows(),
            errors=self._file_table.count_rows("status = 'error'"),
        )

    def search_vector(
        self,
        vector: np.ndarray,
        limit: int,
        where: str | None = None,
        *,
        exact: bool = False,
        columns: Sequence[str] = RESULT_COLUMNS,
    ) -> list[dict]:
        """Nearest chunks by cosine, best first; at most `limit` of them.

        `vector`: shape `(dim,)`, the question's embedding (`Embedder.embed`, one row).
        `where`: an SQL predicate over chunk columns (e.g. `schema.under_predicate`) that
        narrows the rows before the search (prefilter). Returns one dict per chunk whose keys
        are exactly `columns` (chunk table columns; `path` as the file system spells it)
        plus `_distance` and `_rowid` (the row's address in this table version, for
        `chunk_rows`). `[]` when the index has no tables yet.

        `_distance` is the cosine distance, 0 (same direction) to 2 (opposite), smaller is
        better: with a vector index the candidates come from it and are re-scored from the
        stored vectors (`vector_index.search_params`), so the distance itself is exact;
        `exact`: scan every vector instead (the reference recall is measured against).
        A search that loses its table version to a cleanup runs once more
        (`versions.read_latest`); other LanceDB errors (OSError, RuntimeError, ValueError)
        pass through.
        """
        if not self.ready:
            return []

        def run() -> list[dict]:
            # Table.search is typed as returning the base query builder; for a vector it
            # returns a LanceVectorQueryBuilder, which has distance_type.
            query = self._chunk_table.search(
                np.asarray(vector, dtype=np.float32), vector_column_name="vector"
            ).distance_type("cosine")  # type: ignore[attr-defined]
            if exact:
                query = query.bypass_vector_index()
            else:
                params = search_params(limit)
                query = query.nprobes(params.nprobes).ef(params.ef)
                query = query.refine_factor(params.refine_factor)
            if where:
                query = query.where(where, prefilter=True)
            query = query.with_row_id(True).select([*columns, "_distance"])
            return query.limit(limit).to_list()

        return _rows(read_latest(run))

    def search_keyword(
        self,
        query: str,
        limit: int,
        where: str | None = None,
        *,
        columns: Sequence[str] = RESULT_COLUMNS,
    ) -> list[dict]:
        """Full-text (BM25) search over the chunk text and its context (file name, heading
        path), best first; at most `limit` chunks. A query with CJK characters also
        searches their unigrams and bigrams (`keyword_terms`).

        Returns one dict per chunk whose keys are exactly `columns` plus `_score` and
        `_rowid` (as in `search_vector`). `_score` is LanceDB's BM25 score: unbounded,
        higher is better, comparable only within one query. `[]` for a blank query or an
        index with no tables yet. `where` and errors as in `search_vector`.
        """
        if not self.ready or not query.strip():
            return []
        # lancedb's query classes are pydantic dataclasses whose optional fields default
        # through pydantic.Field(..., kw_only=True), which mypy reads as required arguments.
        english = MultiMatchQuery(query, ["text", "context"], boosts=[1.0, 0.5])  # type: ignore[call-arg]
        fts: FullTextQuery
        if has_cjk(query):
            terms = cjk_query_terms(query)
            cjk_match = MatchQuery(terms, "cjk")  # type: ignore[call-arg]
            fts = BooleanQuery([(Occur.SHOULD, english), (Occur.SHOULD, cjk_match)])
        else:
            fts = english

        def run() -> list[dict]:
            search = self._chunk_table.search(fts, query_type="fts")
            if where:
                search = search.where(where, prefilter=True)
            search = search.with_row_id(True).select([*columns, "_score"])
            return search.limit(limit).to_list()

        return _rows(read_latest(run))

    def chunk_rows(self, found: Sequence[tuple[int, str]]) -> dict[str, dict]:
        """RESULT_COLUMNS of chunks a search returned with fewer columns: `found` holds
        (`_rowid`, `id`) pairs; returns the rows by chunk id.

        A search costs far less when it reads only ids (each further column is one random
        read per candidate: at a million chunks 15 ms of a 29 ms vector search), so the
        retriever reads the full rows of the few chunks it keeps, here, by address.
        Raises `StaleRows` when a row is no longer where the search saw it (a compaction or
        re-index in between); the search is then to be run again.
        """
        if not found or not self.ready:
            return {}
        wanted = {chunk_id for _, chunk_id in found}
        chunks = self._chunk_table
        try:
            taken = chunks.take_row_ids([row_id for row_id, _ in found])
            rows = taken.select(RESULT_COLUMNS).to_list()
        except (OSError, RuntimeError, ValueError) as exc:
            # A fragment compacted away, or an address past the end of a rewritten one.
            if lost_version(exc) or "out of" in str(exc).lower():
                raise StaleRows(str(exc)) from exc
            raise
        by_id = {row["id"]: row for row in _rows(rows) if row["id"] in wanted}
        if len(by_id) != len(wanted):
            raise StaleRows(f"{len(wanted) - len(by_id)} of {len(wanted)} rows moved")
        return by_id

    def scan_chunks(self, columns: Sequence[str]) -> pa.Table:
        """These columns of every chunk (for checks, repair and benchmarks); `path` as the
        file system spells it (see `path_keys`)."""
        if not self.ready:
            return pa.table({c: pa.array([], pa.string()) for c in columns})
        table = self._chunk_table.search().select(list(columns)).limit(None).to_arrow()
        if "path" in table.column_names:
            paths = table["path"].to_pylist()
            if any(from_storage(p) != p for p in paths):
                column = table.column_names.index("path")
                table = table.set_column(column, "path", pa.array([from_storage(p) for p in paths]))
        return table

    def chunk_paths_and_hashes(self) -> pa.Table:
        """path, file_hash and batch of every chunk (for consistency checks and repair)."""
        return self.scan_chunks(["path", "file_hash", "batch"])

    # -- maintenance ----------------------------------------------------------------

    def recover(self) -> Recovery:
        """After a writer was killed mid-write (its marker is found under the write lock),
        and only then: remove the chunks it left, and drop records whose chunks are not all
        there (a move cut in half) so the next reconcile indexes those files again."""
        with self._lock.recovering() as interrupted:
            if not interrupted or not self.ready:
                return Recovery()
            removed = self.repair()
            counts = self.chunk_counts()
            broken = [
                r.path
                for r in self.get_files()
                if r.status == "indexed" and counts.get(r.path, 0) != r.chunk_count
            ]
            if broken:
                self.delete_paths(broken)
            return Recovery(removed, tuple(broken))

    def chunk_counts(self) -> Counter[str]:
        """Chunks per path."""
        table = self.chunk_paths_and_hashes()
        if table.num_rows == 0:
            return Counter()
        counts = pc.value_counts(table["path"])
        return Counter({row["values"]: row["counts"] for row in counts.to_pylist()})

    def repair(self) -> int:
        """Delete chunks left by an interrupted write; returns how many were removed.

        A chunk is kept only if its file is recorded as indexed with the same content
        hash, and it belongs to the newest write of that file.
        """
        if not self.ready:
            return 0
        indexed = {r.path: r.content_hash for r in self.get_files() if r.status == "indexed"}
        newest: dict[str, int] = {}
        stale_paths: set[str] = set()
        table = self.chunk_paths_and_hashes().to_pylist()
        for row in table:
            if indexed.get(row["path"]) != row["file_hash"]:
                stale_paths.add(row["path"])
            else:
                newest[row["path"]] = max(newest.get(row["path"], 0), row["batch"])
        for row in table:
            keep = newest.get(row["path"])
            if keep is not None and row["batch"] < keep:
                stale_paths.add(row["path"])
        removed = 0
        for path in sorted(stale_paths):
            where = f"path = {sql_str(path)} AND NOT (file_hash = {sql_str(indexed.get(path, ''))}"
            where += f" AND batch = {newest.get(path, -1)})"
            removed += self._chunk_table.count_rows(where)
            self._chunk_table.delete(where)
        return removed

    def needs_optimize(self) -> bool:
        """Many fragments, or many rows the keyword index has not folded in yet.

        Read from the tables, so it also holds for writes made by another process.
        """
        if not self.ready:
            return False
        # stats() is typed as the TableStatistics dataclass, but lancedb 0.40 returns a
        # plain dict (and the dataclass has no __getitem__).
        fragments = self._chunk_table.stats()["fragment_stats"]["num_fragments"]  # type: ignore[index]
        stats = self._chunk_table.index_stats("text_idx")
        if stats is None:
            return fragments >= OPTIMIZE_FRAGMENTS
        rows = stats.num_indexed_rows + stats.num_unindexed_rows
        enough = max(OPTIMIZE_UNINDEXED_ROWS, int(rows * OPTIMIZE_UNINDEXED_SHARE))
        return fragments >= OPTIMIZE_FRAGMENTS or stats.num_unindexed_rows >= enough

    def optimize(self, force: bool = False) -> bool:
        """Compact fragments, fold new rows into the keyword and vector indexes, delete the
        versions this replaced.

        Without `force`, only when `needs_optimize()` and no vector index build is under
        way (a writer never waits minutes for one); returns whether it ran. Until then
        LanceDB searches unindexed rows by brute force, so results are never missing.
        """
        if not self.ready or not (force or self.needs_optimize()):
            return False
        if not self._maintenance.acquire(blocking=force):
            return False
        try:
            with self._lock.exclusive():  # compaction rewrites what another writer may touch
                for table in (self._chunk_table, self._file_table):
                    optimize_table(table)
        finally:
            self._maintenance.release()
        return True

    # -- the approximate vector index -----------------------------------------------

    def vector_index_rows(self) -> int | None:
        """Rows the vector index was trained on; None when there is no vector index."""
        if not self.ready or VECTOR_INDEX not in {i.name for i in self._chunk_table.list_indices()}:
            return None
        trained = read_trained_rows(self.index_dir)
        if trained is None:  # built without the state file: count its rows now
            stats = self._chunk_table.index_stats(VECTOR_INDEX)
            trained = stats.num_indexed_rows if stats is not None else 0
        return trained

    def vector_index_due(self) -> Action:
        """What `update_vector_index` would do now (a row count and a small file read)."""
        if not self.ready:
            return Action.NONE
        return self._vector_index_plan()[1]

    def _vector_index_plan(self) -> tuple[int, Action]:
        rows = self._chunk_table.count_rows()
        return rows, plan(rows, self.vector_index_rows(), min_rows=self.vector_index_min_rows)

    def update_vector_index(self) -> Action:
        """Build the approximate vector index once the table is big enough, train it again
        once the table has grown enough (`vector_index.plan`); returns what was done.

        Minutes at a million chunks on 2 cores. Takes no write lock: searches and writes go
        on meanwhile (rows written during the build stay unindexed, searched exactly, until
        the next `optimize` folds them in). Raises LanceDB's error if another process
        compacted the table under the build; the next call tries again.
        """
        if not self.ready:
            return Action.NONE
        with self._maintenance:
            rows, action = self._vector_index_plan()
            if action is Action.NONE:
                return action
            started = time.monotonic()
            self._chunk_table.create_index("vector", config=index_config(rows), replace=True)
            write_trained_rows(self.index_dir, rows)
            with self._lock.exclusive():  # deletes the replaced index; compacts what came meanwhile
                optimize_table(self._chunk_table)
            log.info("vector index: %s on %d rows in %.1f s", action.value, rows,
                     time.monotonic() - started)  # fmt: skip
        return action

    def size_bytes(self) -> int:
        total = 0
        for root, _dirs, files in os.walk(self.index_dir):
            for name in files:
                with contextlib.suppress(OSError):  # removed by a concurrent cleanup
                    total += os.stat(os.path.join(root, name)).st_size
        return total

    def _require(self) -> None:
        if not self.ready:
            raise RuntimeError("Store.ensure_tables must be called before writing")


class StaleRows(Exception):
    """Rows moved between a search and `Store.chunk_rows` (the table changed)."""


def _rows(rows: list[dict]) -> list[dict]:
    """Search results with paths as the file system spells them."""
    for row in rows:
        if "path" in row:
            row["path"] = from_storage(row["path"])
    return rows


def _record(row: dict) -> FileRecord:
    return FileRecord(
        path=from_storage(row["path"]),
        size=int(row["size"]),
        mtime_ns=int(row["mtime_ns"]),
        content_hash=row["content_hash"] or "",
        status=row["status"],
        error=row["error"],
        chunk_count=int(row["chunk_count"] or 0),
        kind=row["kind"] or "",
    )
