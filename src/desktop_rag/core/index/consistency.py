"""The index checked against itself after a kill: run once when sync starts.

The store's write order means a kill leaves at worst extra chunks, or, after a move cut in
half, a record whose chunks carry another path; `Store.recover` fixes both, and only when a
writer was in fact killed (its marker is found under the write lock), so a writer alive in
another process is never "repaired" under its feet.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_rag.core.index.store import Store


@dataclass(frozen=True)
class ConsistencyReport:
    stale_chunks_removed: int
    requeued: tuple[str, ...]  # files whose records were dropped, to be indexed again

    @property
    def clean(self) -> bool:
        return not self.stale_chunks_removed and not self.requeued


def check_index(store: Store) -> ConsistencyReport:
    if not store.ready:
        return ConsistencyReport(0, ())
    recovery = store.recover()
    return ConsistencyReport(recovery.stale_chunks_removed, recovery.requeued)
