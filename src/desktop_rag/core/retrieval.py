"""Finding chunks for a question: vector search, keyword search, and both fused (RRF)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from desktop_rag.core.fusion import RRF_K, Candidate, dedupe, reciprocal_rank_fusion
from desktop_rag.core.records import Hit
from desktop_rag.core.store import Store
from desktop_rag.core.store_schema import within_folders


@dataclass(frozen=True)
class RetrievalConfig:
    """`depth`: candidates taken from each side per result asked for (before de-duplication)."""

    depth: int = 4
    min_candidates: int = 40
    rrf_k: int = RRF_K
    dense_weight: float = 1.0
    keyword_weight: float = 1.0


def _candidate(
    row: dict, score: float, *, dense: float | None = None, keyword: float | None = None
) -> Candidate:
    hit = Hit(
        chunk_id=row["id"],
        path=row["path"],
        text=row["text"],
        start=int(row["start"]),
        end=int(row["end"]),
        score=float(score),
        page=row["page"],
        heading_path=tuple(row["heading_path"] or ()),
        ordinal=int(row["ordinal"]),
        dense_score=dense,
        keyword_score=keyword,
    )
    return Candidate(hit, row["content_hash"] or "", row["file_hash"] or "")


class Retriever:
    """Reads the store; `embed_query` turns the question into a normalized vector."""

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

    def _dense(self, query: str, n: int, where: str | None = None) -> list[Candidate]:
        rows = self.store.search_vector(self.embed_query(query), n, where)
        # Cosine distance: 1 - distance is the cosine similarity the answerer's
        # relevance check is calibrated on.
        return [
            _candidate(row, sim, dense=sim)
            for row in rows
            for sim in (1.0 - float(row["_distance"]),)
        ]

    def _keyword(self, query: str, n: int, where: str | None = None) -> list[Candidate]:
        rows = self.store.search_keyword(query, n, where)
        return [_candidate(row, float(row["_score"]), keyword=float(row["_score"])) for row in rows]

    def dense(self, query: str, k: int = 10) -> list[Hit]:
        if not query.strip() or not self.store.ready:
            return []
        return dedupe(self._dense(query, self._pool(k)), limit=k)

    def keyword(self, query: str, k: int = 10) -> list[Hit]:
        if not query.strip() or not self.store.ready:
            return []
        return dedupe(self._keyword(query, self._pool(k)), limit=k)

    def hybrid(self, query: str, k: int = 10, folders: Sequence[str] = ()) -> list[Hit]:
        """Both searches fused by reciprocal rank; the score is the fused RRF score.

        `folders`: search only the files under these (a chat limited to some folders).
        """
        if not query.strip() or not self.store.ready:
            return []
        n = self._pool(k)
        where = within_folders(folders)
        # The keyword search needs no embedding: it runs while the question is embedded
        # and the vectors searched. LanceDB and the embedder release the GIL, so at 100,000
        # chunks on 2 cores a question costs the longer side, not the sum
        # (benchmarks/scale.py). A thread per question costs about 0.1 ms.
        with ThreadPoolExecutor(1, thread_name_prefix="desktop-rag-keyword") as pool:
            keyword_job = pool.submit(self._keyword, query, n, where)
            dense = self._dense(query, n, where)
            keyword = keyword_job.result()
        by_id = {c.hit.chunk_id: c for c in keyword}
        keyword_scores = {c.hit.chunk_id: c.hit.keyword_score for c in keyword}
        by_id.update({c.hit.chunk_id: c for c in dense})
        fused = reciprocal_rank_fusion(
            [[c.hit.chunk_id for c in dense], [c.hit.chunk_id for c in keyword]],
            k=self.config.rrf_k,
            weights=[self.config.dense_weight, self.config.keyword_weight],
        )
        ranked = []
        for chunk_id, score in fused:
            cand = by_id[chunk_id]
            hit = replace(cand.hit, score=score, keyword_score=keyword_scores.get(chunk_id))
            ranked.append(Candidate(hit, cand.content_hash, cand.file_hash))
        return dedupe(ranked, limit=k)
