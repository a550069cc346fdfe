"""Compare a folder on disk with the index's records: stat first, hash only what stat cannot settle.

The folder's files come from `ingest.walk.scan_folder` (the one folder walk); `plan_folder`
turns that `Scan` and the index's records into a `SyncPlan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from desktop_rag.core.ingest.walk import Scan
from desktop_rag.core.records import FileRecord
from desktop_rag.core.sync.folders import is_under
from desktop_rag.core.sync.plan import (
    SyncPlan,
    paths_to_hash,
    plan_sync,
    with_hashes,
)

Hasher = Callable[[str], str]


def hash_files(paths: Iterable[str], hasher: Hasher) -> tuple[dict[str, str], list[str]]:
    """Content hashes; paths that vanished or cannot be read are returned apart."""
    hashes, failed = {}, []
    for path in paths:
        try:
            hashes[path] = hasher(path)
        except OSError:
            failed.append(path)
    return hashes, failed


def plan_folder(
    scan: Scan, records: Mapping[str, FileRecord], hasher: Hasher, *, retry_failed: bool = False
) -> tuple[SyncPlan, int]:
    """The plan for one scanned folder; also returns how many files had to be read."""
    if scan.errors:
        # Files under a folder that could not be listed are unknown, not deleted.
        records = {
            p: r for p, r in records.items() if not any(is_under(p, bad) for bad, _ in scan.errors)
        }
    wanted = paths_to_hash(scan.files, records)
    # A file that cannot be read now (locked, vanishing) keeps no hash: it is planned as
    # new or changed and the indexer reports what went wrong with it.
    hashes, _failed = hash_files(sorted(wanted), hasher)
    disk = with_hashes(scan.files, hashes)
    return plan_sync(disk, records, retry_failed=retry_failed), len(hashes)
