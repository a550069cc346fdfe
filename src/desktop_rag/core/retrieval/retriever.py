"""Finding chunks for a question: vector search, keyword search, and both fused (RRF)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from desktop_rag.core.index.schema import within_folders
from desktop_rag.core.index.store import StaleRows, Store
from desktop_rag.core.records import Hit
from desktop_rag.core.retrieval.fusion import (
    RRF_K,
    Candidate,
    dedupe,
    reciprocal_rank_fusion,
)


@dataclass(frozen=True)
class RetrievalConfig:
    """`depth`: candidates taken from each side per result asked for (before de-duplication)."""

    depth: int = 4
    min_candidates: int = 40
    rrf_k: int = RRF_K
    dense_weight: float = 1.0
    keyword_weight: float = 1.0


@dataclass(frozen=True)
class Ranked:
    """One place in a ranking, before its chunk's row is read: the chunk's id and
    address (`Store.chunk_rows`) and its scores."""

    chunk_id: str
    row_id: int
    score: float
    dense: float | None = None
    keyword: float | None = None


def _candidate(row: dict, ranked: Ranked) -> Candidate:
    hit = Hit(
        chunk_id=row["id"],
        path=row["path"],
        text=row["text"],
        start=int(row["start"]),
        end=int(row["end"]),
        score=float(ranked.score),
        page=row["page"],
        heading_path=tuple(row["heading_path"] or ()),
        ordinal=int(row["ordinal"]),
        dense_score=ranked.dense,
        keyword_score=ranked.keyword,
    )
    return Candidate(hit, row["content_hash"] or "", row["file_hash"] or "")


# Searches read only these; the rows of the chunks kept are read afterwards.
KEY_COLUMNS = ("id",)
# Read attempts before a search that keeps losing its rows to a changing table gives up.
ATTEMPTS = 3


class Retriever:
    """Reads the store; `embed_query` turns the question into a normalized vector.

    Each search is two steps: the searches proper return chunk ids and scores only, then
    the rows of the chunks kept (after fusion and de-duplication) are read by address.
    """

    def __init__(
        self,
        store: Store,
        embed_query: Callable[[str], np.ndarray],
        config: RetrievalConfig | None = None,
    ):
        self.store = store
        self.embed_query = embed_query
        self.config = config or RetrievalConfig()

    def _pool(self, k: int) -> int:
        return max(k * self.config.depth, self.config.min_candidates)

    def _dense(self, query: str, n: int, where: str | None = None) -> list[Ranked]:
        rows = self.store.search_vector(self.embed_query(query), n, where, columns=KEY_COLUMNS)
        # Cosine distance: 1 - distance is the cosine similarity the answerer's
        # relevance check is calibrated on.
        return [
            Ranked(row["id"], row["_rowid"], sim, dense=sim)
            for row in rows
            for sim in (1.0 - float(row["_distance"]),)
        ]

    def _keyword(self, query: str, n: int, where: str | None = None) -> list[Ranked]:
        rows = self.store.search_keyword(query, n, where, columns=KEY_COLUMNS)
        return [
            Ranked(row["id"], row["_rowid"], score, keyword=score)
            for row in rows
            for score in (float(row["_score"]),)
        ]

    def _kept(self, search: Callable[[], list[Ranked]], k: int) -> list[Hit]:
        """The best `k` hits of `search()`'s ranking after de-duplication. A table that
        changed between the search and the read of its rows is searched again."""
        for _ in range(ATTEMPTS - 1):
            try:
                return self._read_kept(search(), k)
            except StaleRows:
                pass
        return self._read_kept(search(), k)

    def _read_kept(self, ranking: list[Ranked], k: int) -> list[Hit]:
        """Reads rows in growing slices of the ranking (2k, then doubling) until k survive
        de-duplication: it drops some, rarely many. Raises StaleRows (Store.chunk_rows)."""
        rows: dict[str, dict] = {}
        n = min(len(ranking), 2 * k)
        while True:
            missing = [(r.row_id, r.chunk_id) for r in ranking[:n] if r.chunk_id not in rows]
            rows.update(self.store.chunk_rows(missing))
            kept = dedupe((_candidate(rows[r.chunk_id], r) for r in ranking[:n]), k)
            if len(kept) >= k or n >= len(ranking):
                return kept
            n = min(len(ranking), 2 * n)

    def dense(self, query: str, k: int = 10) -> list[Hit]:
        if not query.strip() or not self.store.ready:
            return []
        return self._kept(lambda: self._dense(query, self._pool(k)), k)

    def keyword(self, query: str, k: int = 10) -> list[Hit]:
        if not query.strip() or not self.store.ready:
            return []
        return self._kept(lambda: self._keyword(query, self._pool(k)), k)

    def hybrid(self, query: str, k: int = 10, folders: Sequence[str] = ()) -> list[Hit]:
        """Both searches fused by reciprocal rank; the score is the fused RRF score.

        `folders`: search only the files under these (a chat limited to some folders).
        """
        if not query.strip() or not self.store.ready:
            return []
        n = self._pool(k)
        where = within_folders(folders)

        def search() -> list[Ranked]:
            # The keyword search needs no embedding: it runs while the question is embedded
            # and the vectors searched. LanceDB and the embedder release the GIL, so a
            # question costs less than the sum of both sides (benchmarks/scale.py). A
            # thread per question costs about 0.1 ms.
            with ThreadPoolExecutor(1, thread_name_prefix="desktop-rag-keyword") as pool:
                keyword_job = pool.submit(self._keyword, query, n, where)
                dense = self._dense(query, n, where)
                keyword = keyword_job.result()
            return self._fuse(dense, keyword)

        return self._kept(search, k)

    def _fuse(self, dense: list[Ranked], keyword: list[Ranked]) -> list[Ranked]:
        by_id = {r.chunk_id: r for r in keyword}
        by_id.update({r.chunk_id: r for r in dense})
        keyword_scores = {r.chunk_id: r.keyword for r in keyword}
        fused = reciprocal_rank_fusion(
            [[r.chunk_id for r in dense], [r.chunk_id for r in keyword]],
            k=self.config.rrf_k,
            weights=[self.config.dense_weight, self.config.keyword_weight],
        )
        return [
            replace(by_id[chunk_id], score=score, keyword=keyword_scores.get(chunk_id))
            for chunk_id, score in fused
        ]
