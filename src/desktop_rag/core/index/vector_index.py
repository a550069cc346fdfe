"""When the chunks table gets an approximate vector index, and how it is built and queried.

Pure policy: functions of row counts, no I/O (the store applies them).

Measured on this project's 2-core machine (benchmarks/scale.py, vectors made from real
MiniLM embeddings): an exact scan for 40 candidates took 28 ms at 10,000 chunks and 89 ms
at 100,000, the index 12 ms at 100,000 (recall@10 0.995, built in 88 s); below `MIN_ROWS`
an index would only add build time and disk for a few ms. IVF_HNSW_SQ was chosen over
IVF_PQ: at 100,000 chunks both took about a minute to build and answered in 7-12 ms, but
PQ's coarse codes reached only 0.78 recall@10 (0.89 with refine_factor 10) on
near-duplicate-rich text, against 1.0 for HNSW with 8-bit scalar codes and refine_factor 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lancedb.index import IvfHnswSq

# Below this many chunks searches scan every vector (exact, and fast enough).
MIN_ROWS = 20_000
# Train again once the table has grown this much since training: the partitions' centroids
# were learnt from the rows of that time, and new rows folded in by `optimize` crowd them.
RETRAIN_GROWTH = 2.0
# HNSW graphs are built per IVF partition: more partitions bound the memory one graph
# needs while it is built; fewer make a query visit fewer graphs.
ROWS_PER_PARTITION = 250_000


class Action(Enum):
    NONE = "none"  # too small, or the index is current
    BUILD = "build"  # no index yet (or one of another kind)
    RETRAIN = "retrain"  # grown RETRAIN_GROWTH× since training


@dataclass(frozen=True)
class SearchParams:
    """Query-time settings. The index proposes `limit × refine_factor` candidates that are
    re-scored from the stored vectors, so the top results and their `_distance` are exact
    cosine distances (the answerer's relevance gate reads them). `ef` (the HNSW beam) must
    be at least the candidates asked for."""

    nprobes: int
    ef: int
    refine_factor: int


def search_params(limit: int) -> SearchParams:
    """For `limit` results: a few (a top 10) get a wider refine margin than a retriever's
    pool (40). Measured at a million chunks (benchmarks/scale.py): ef 100 with refine 5/2
    reached recall@10 0.95, ef 200 0.97, ef 400 0.995 (refine 2 to 20 changed little), for
    5 ms more a search."""
    refine = 20 if limit <= 10 else 5
    return SearchParams(nprobes=10, ef=max(400, limit * refine), refine_factor=refine)


def plan(rows: int, trained_rows: int | None, *, min_rows: int = MIN_ROWS) -> Action:
    """What to do for a table of `rows` chunks whose index was trained on `trained_rows`
    (None: there is no vector index)."""
    if rows < min_rows:
        return Action.NONE
    if trained_rows is None:
        return Action.BUILD
    if rows >= RETRAIN_GROWTH * max(trained_rows, 1):
        return Action.RETRAIN
    return Action.NONE


def partitions(rows: int) -> int:
    """IVF partitions for a table of `rows` chunks (at least 1)."""
    return max(1, -(-rows // ROWS_PER_PARTITION))


def index_config(rows: int) -> IvfHnswSq:
    """The index for a table of `rows` chunks: cosine, as the searches measure it."""
    return IvfHnswSq(distance_type="cosine", num_partitions=partitions(rows))
