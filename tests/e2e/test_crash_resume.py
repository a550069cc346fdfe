"""Kill -9 while indexing a folder, restart, and check nothing is lost or doubled.

The driver (this file run as a script) indexes a folder through the real SyncEngine,
KnowledgeBase, indexer and LanceDB, with a fast fake embedder and small write batches so
that a kill can land in scanning, embedding or the middle of a write. The test kills it at
several points, checks the index after each restart, and finally lets it finish: the resumed
run indexes only the files that were not finished before.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

FILES = 150
WORDS = ["amber", "basalt", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo"]


def _driver(data_dir: str, folder: str) -> None:
    """Index `folder` (adding it if needed) and print one line per progress report."""
    import time as _time

    from desktop_rag.core.embedding.embedder import FakeEmbedder
    from desktop_rag.core.ingest.indexer import Indexer, IndexerTuning
    from desktop_rag.core.knowledge_base import KnowledgeBase
    from desktop_rag.core.sync.engine import SyncEngine
    from desktop_rag.core.sync.folders import FolderStore

    class SlowFake(FakeEmbedder):
        def embed(self, texts):
            _time.sleep(0.004 * len(texts))  # slow enough for a kill to land mid-run
            return super().embed(texts)

    class SmallBatches(KnowledgeBase):
        # Many small writes, so that kills land before, inside and after writes.
        def index(self, targets, *, progress=None, cancel=None, retry_failed=False):
            tuning = IndexerTuning(embed_group=6, embed_slice=3, write_rows=6)
            indexer = Indexer(
                self.store, self.embedder, self.settings,
                progress=progress, cancel=cancel, tuning=tuning, retry_failed=retry_failed,
            )  # fmt: skip
            return indexer.run(targets)

    kb = SmallBatches.open(data_dir, embedder=SlowFake())
    engine = SyncEngine(kb, FolderStore(kb.paths.state_db))
    engine.check_index()
    if engine.folders.get(folder) is None:
        engine.folders.add(folder)

    def progress(p):
        print(f"progress {p.done} {p.total} {p.phase}", flush=True)

    report = engine.reconcile(folder, progress=progress)
    i = report.index
    result = {"indexed": i.indexed, "unchanged": i.unchanged, "embedded": i.chunks_embedded}
    print("report " + json.dumps(result), flush=True)


def make_folder(root: Path) -> None:
    for i in range(FILES):
        words = " ".join(f"{WORDS[(i + k) % len(WORDS)]}{i}x{k}" for k in range(40))
        (root / f"sub{i % 5}").mkdir(parents=True, exist_ok=True)
        (root / f"sub{i % 5}" / f"note{i:03}.txt").write_text(f"Note {i}. {words}\n")


def start(data_dir: Path, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, __file__, str(data_dir), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run_until(proc: subprocess.Popen, stop_after) -> list[str]:
    """Read progress lines; SIGKILL the driver as soon as `stop_after(lines)` says so."""
    lines: list[str] = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        lines.append(line.strip())
        if stop_after(lines):
            os.kill(proc.pid, signal.SIGKILL)
            break
        if time.monotonic() > deadline:
            break
    proc.wait(timeout=30)
    return lines


def inspect(data_dir: Path) -> dict:
    """Open the index as a restarted app would (consistency check first), and audit it."""
    from desktop_rag.core.embedding.embedder import FakeEmbedder
    from desktop_rag.core.knowledge_base import KnowledgeBase
    from desktop_rag.core.sync.engine import SyncEngine
    from desktop_rag.core.sync.folders import FolderStore

    kb = KnowledgeBase.open(data_dir, embedder=FakeEmbedder())
    try:
        SyncEngine(kb, FolderStore(kb.paths.state_db)).check_index()
        store = kb.store
        if not store.ready:
            return {"indexed": 0}
        rows = store._chunks.search().select(["id", "path", "ordinal", "file_hash"]).limit(None)
        chunks = rows.to_arrow().to_pylist()
        records = {r.path: r for r in kb.file_records()}
        ids = Counter(c["id"] for c in chunks)
        pairs = Counter((c["path"], c["ordinal"]) for c in chunks)
        per_path = Counter(c["path"] for c in chunks)
        assert [i for i, n in ids.items() if n > 1] == [], "duplicate chunk ids"
        assert [p for p, n in pairs.items() if n > 1] == [], "duplicate (path, ordinal)"
        orphans = [
            c["path"]
            for c in chunks
            if c["path"] not in records
            or records[c["path"]].status != "indexed"
            or records[c["path"]].content_hash != c["file_hash"]
        ]
        assert orphans == [], "chunks without a matching indexed file"
        missing = [
            p for p, r in records.items() if r.status == "indexed" and per_path[p] != r.chunk_count
        ]
        assert missing == [], "indexed files without all their chunks"
        return {"indexed": sum(r.status == "indexed" for r in records.values())}
    finally:
        kb.close()


@pytest.mark.slow
def test_kill_at_several_points_then_resume(tmp_path: Path) -> None:
    folder, data_dir = tmp_path / "folder", tmp_path / "data"
    make_folder(folder)
    data_dir.mkdir()

    def after(phase: str, n: int):
        return lambda lines: sum(line.endswith(" " + phase) for line in lines) >= n

    kill_points = [
        ("during the first write", after("writing", 1)),
        ("while scanning", after("scanning", 20)),
        ("after a few writes", after("writing", 3)),
        ("while extracting", after("extracting", 10)),
        ("while embedding", after("embedding", 4)),
        ("after more writes", after("writing", 6)),
    ]
    finished = 0
    for label, stop_after in kill_points:
        lines = run_until(start(data_dir, folder), stop_after)
        assert not any(line.startswith("report ") for line in lines), f"finished before {label}"
        state = inspect(data_dir)
        assert state["indexed"] >= finished, f"finished files were lost after a kill {label}"
        finished = state["indexed"]
    assert 0 < finished < FILES

    proc = start(data_dir, folder)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    report = json.loads(next(x for x in out.splitlines() if x.startswith("report "))[7:])
    assert report["indexed"] == FILES - finished  # only what was left
    assert report["unchanged"] == finished  # finished files were not redone
    assert inspect(data_dir)["indexed"] == FILES


if __name__ == "__main__":
    _driver(sys.argv[1], sys.argv[2])
