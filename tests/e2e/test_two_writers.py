"""Two processes on one data folder (the app beside `desktop-rag index`), real LanceDB.

A second process that opens the index while the first is in the middle of a write must
wait for that write instead of "repairing" it away, say whom it waits for, and both may
index at the same time without leaving a file with missing chunks.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

from desktop_rag.core.embedding.embedder import FakeEmbedder
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.settings import Settings
from desktop_rag.core.sync.engine import SyncEngine
from desktop_rag.core.sync.folders import FolderStore

# The first writer: each write of records stalls 1.5 s between its chunks and its records,
# the moment a repair by someone else would delete chunks that are about to be recorded.
SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from desktop_rag.core.embedding.embedder import FakeEmbedder
    from desktop_rag.core.knowledge_base import KnowledgeBase
    from desktop_rag.core.paths import AppPaths
    from desktop_rag.core.settings import Settings
    from desktop_rag.core.index.store import Store

    real_merge = Store._merge_records
    def slow_merge(self, records):
        print("WRITING", flush=True)
        time.sleep(1.5)
        real_merge(self, records)
    Store._merge_records = slow_merge
    kb = KnowledgeBase(AppPaths(Path(sys.argv[1])), Settings(), embedder=FakeEmbedder())
    report = kb.index([Path(sys.argv[2])])
    print("DONE", report.indexed, flush=True)
    """
)


def _folder(root: Path, name: str, files: int) -> Path:
    folder = root / name
    folder.mkdir()
    for i in range(files):
        words = " ".join(f"{name}{i}w{j}" for j in range(120))
        (folder / f"{name}{i}.md").write_text(f"# {name} {i}\n\n{words}\n")
    return folder


def _start_slow_writer(data_dir: Path, folder: Path) -> subprocess.Popen:
    """The first writer, returned once it is in the middle of a write (chunks, no records)."""
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(data_dir), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "WRITING"
    return writer


def _audit(data_dir: Path) -> tuple[int, list[str]]:
    """(indexed files, files whose record and chunks disagree)."""
    kb = KnowledgeBase(AppPaths(data_dir), Settings(), embedder=FakeEmbedder())
    try:
        store = kb.store
        counts = Counter(store.chunk_paths_and_hashes().column("path").to_pylist())
        records = [r for r in store.get_files() if r.status == "indexed"]
        return len(records), [r.path for r in records if counts[r.path] != r.chunk_count]
    finally:
        kb.close()


def test_a_second_process_waits_for_a_write_instead_of_repairing_it(tmp_path, data_dir, caplog):
    writer = _start_slow_writer(data_dir, _folder(tmp_path, "first", 12))
    try:
        started = time.monotonic()
        # What the app does when it starts: open the index and check it after a kill.
        kb = KnowledgeBase(AppPaths(data_dir), Settings(), embedder=FakeEmbedder())
        engine = SyncEngine(kb, FolderStore(data_dir / "state.sqlite3"))
        report = engine.check_index()
        waited = time.monotonic() - started
        assert report.clean  # nothing was "repaired": the writer was alive
        assert waited > 0.3, "it did not wait for the write under way"
        told = [r.getMessage() for r in caplog.records if "waiting for another" in r.getMessage()]
        assert told and f"process {writer.pid}" in told[0], caplog.text
        kb.close()
        out, err = writer.communicate(timeout=120)
    finally:
        writer.kill()
    assert writer.returncode == 0, err
    assert "DONE 12" in out
    indexed, broken = _audit(data_dir)
    assert indexed == 12 and broken == []


def test_two_processes_index_at_once_and_the_index_stays_whole(tmp_path, data_dir):
    writer = _start_slow_writer(data_dir, _folder(tmp_path, "first", 12))
    second = _folder(tmp_path, "second", 20)
    try:
        kb = KnowledgeBase(AppPaths(data_dir), Settings(), embedder=FakeEmbedder())
        done = threading.Event()
        result = {}

        def index_second() -> None:
            result["report"] = kb.index([second])
            done.set()

        threading.Thread(target=index_second, daemon=True).start()
        assert done.wait(120)
        kb.close()
        out, err = writer.communicate(timeout=120)
    finally:
        writer.kill()
    assert writer.returncode == 0, err
    assert result["report"].indexed == 20 and "DONE 12" in out
    indexed, broken = _audit(data_dir)
    assert indexed == 32 and broken == []
