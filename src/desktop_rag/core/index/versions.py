"""Old table versions and the readers that may still hold one; the vector index's state file.

Compaction and index rebuilds rewrite files. The versions they replace are deleted at once
(LanceDB's default keeps them for days, the store used to keep them 5 minutes): filling an
index of 500,000 chunks then held 22 GB for a 1 GB result, now it peaks near twice its final
size. The cost: a search that opened a version just before its files were deleted (in this
process, or in another one: the CLI beside the app) fails with "not found". Searches are
short and every query opens the latest version (read_consistency_interval 0), so running it
once more on the latest version is enough; `read_latest` does.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

log = logging.getLogger(__name__)
CLEANUP_OLDER_THAN = timedelta(0)
VECTOR_INDEX_STATE = "vector_index.json"  # rows the vector index was trained on


def lost_version(exc: BaseException) -> bool:
    """Whether LanceDB's error says the files of the version being read were deleted."""
    message = str(exc).lower()
    return "not found" in message or "no such file" in message


def read_latest(run: Callable[[], list[dict]]) -> list[dict]:
    """`run()`, once more if the version it read was deleted under it."""
    try:
        return run()
    except (OSError, RuntimeError, ValueError) as exc:
        if not lost_version(exc):
            raise
        log.info("a search lost its version to a cleanup; searching again: %s", exc)
        return run()


def optimize_table(table) -> None:
    """Compact, fold new rows into every index, delete the versions this replaced."""
    with warnings.catch_warnings():  # LanceDB warns about cleanup 0: see the module notes
        warnings.simplefilter("ignore", UserWarning)
        table.optimize(cleanup_older_than=CLEANUP_OLDER_THAN)


def read_trained_rows(index_dir: Path) -> int | None:
    """Rows the vector index was trained on, as `write_trained_rows` left them; None when
    unknown (no file, or an unreadable one)."""
    try:
        state = json.loads((index_dir / VECTOR_INDEX_STATE).read_text("utf-8"))
        return int(state["trained_rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_trained_rows(index_dir: Path, rows: int) -> None:
    tmp = index_dir / (VECTOR_INDEX_STATE + ".tmp")
    tmp.write_text(json.dumps({"trained_rows": rows}), "utf-8")
    os.replace(tmp, index_dir / VECTOR_INDEX_STATE)
