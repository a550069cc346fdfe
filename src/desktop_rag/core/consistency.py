"""The index checked against itself after a kill: run once when sync starts.

The store's write order means a kill leaves at worst extra chunks (removed by
`Store.repair`), or, after a move cut in half, a record whose chunks carry another path.
Such records are dropped with whatever chunks they still have, so the next reconcile sees
those files as new and indexes them again: no file stays marked indexed without its chunks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow.compute as pc

from desktop_rag.core.store import Store


@dataclass(frozen=True)
class ConsistencyReport:
    stale_chunks_removed: int
    requeued: tuple[str, ...]  # files whose records were dropped, to be indexed again

    @property
    def clean(self) -> bool:
        return not self.stale_chunks_removed and not self.requeued


def chunk_counts(store: Store) -> Counter[str]:
    table = store.chunk_paths_and_hashes()
    if table.num_rows == 0:
        return Counter()
    counts = pc.value_counts(table["path"])
    return Counter(
        {row["values"]: row["counts"] for row in counts.to_pylist()}  # one row per path
    )


def check_index(store: Store) -> ConsistencyReport:
    if not store.ready:
        return ConsistencyReport(0, ())
    removed = store.repair()
    counts = chunk_counts(store)
    broken = [
        r.path
        for r in store.get_files()
        if r.status == "indexed" and counts.get(r.path, 0) != r.chunk_count
    ]
    if broken:
        store.delete_paths(broken)
    return ConsistencyReport(stale_chunks_removed=removed, requeued=tuple(broken))
