"""Watched folders on the real parts: real files, real watchdog events, real MiniLM, LanceDB.

One watch loop runs for the whole module; each test changes the folder the way a person or
an editor would and polls `search`/`status` until the change shows (never fixed sleeps).
A counting wrapper around the real embedder proves what was (not) embedded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from desktop_rag.core.embedding.embedder import SentenceTransformerEmbedder
from desktop_rag.core.ingest.indexer import hash_file
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths, default_embedder_dir
from desktop_rag.core.settings import Settings
from desktop_rag.core.sync.engine import SyncEngine, SyncEvent
from desktop_rag.core.sync.folders import FolderStore
from desktop_rag.core.sync.loop import WatchLoop, WatchTiming

pytestmark = pytest.mark.slow


class CountingEmbedder:
    """The real MiniLM; remembers every text it embedded (queries included)."""

    def __init__(self, inner: SentenceTransformerEmbedder):
        self.inner = inner
        self.texts: list[str] = []

    name = property(lambda self: self.inner.name)
    dim = property(lambda self: self.inner.dim)
    max_tokens = property(lambda self: self.inner.max_tokens)

    def token_offsets(self, text: str):
        return self.inner.token_offsets(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


class Watched:
    def __init__(self, root: Path, kb: KnowledgeBase, embedder: CountingEmbedder):
        self.root, self.kb, self.embedder = root, kb, embedder
        self.events: list[SyncEvent] = []

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def paths_for(self, query: str) -> list[str]:
        return [h.path for h in self.kb.search(query, k=5)]

    def top(self, query: str) -> tuple[str, str] | None:
        """Path of the best hit, and its last line of text (the body under the heading)."""
        hits = self.kb.search(query, k=1)
        return (hits[0].path, hits[0].text.strip().splitlines()[-1]) if hits else None

    def indexed(self) -> dict[str, object]:
        return {r.path: r for r in self.kb.file_records(self.root)}

    def current(self, path: Path) -> bool:
        """Indexed with its present content (not an earlier, half-written state)."""
        record = self.indexed().get(str(path))
        return (
            record is not None
            and record.status == "indexed"
            and path.exists()
            and record.content_hash == hash_file(path)
        )

    def embedded(self) -> int:
        return len(self.embedder.texts)


def wait_until(condition, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or condition}")


LION = "Lions live in prides on the African savanna and hunt zebras at dusk."
GLACIER = "Glaciers carve U-shaped valleys as compacted snow slowly flows downhill."
VOLCANO = "Basaltic lava from shield volcanoes flows far because it has low viscosity."
TEAPOT = "The porcelain teapot was glazed cobalt blue and fired twice in the kiln."
ORBIT = "Geostationary satellites orbit above the equator once every sidereal day."


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("sync-e2e")
    root = base / "notes"
    root.mkdir()
    embedder = CountingEmbedder(SentenceTransformerEmbedder(default_embedder_dir()))
    kb = KnowledgeBase(AppPaths(base / "data").ensure(), Settings(), embedder=embedder)
    w = Watched(root, kb, embedder)
    w.write("lion.md", f"# Lions\n\n{LION}\n")
    engine = SyncEngine(kb, FolderStore(kb.paths.state_db), on_event=w.events.append)
    engine.add_folder(root)
    stop, ready = threading.Event(), threading.Event()
    loop = WatchLoop(engine, WatchTiming(quiet_s=0.3, max_delay_s=2.0, availability_s=1.0))
    thread = threading.Thread(target=loop.run, args=(stop,), kwargs={"ready": ready})
    thread.start()
    assert ready.wait(60)
    yield w
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    kb.close()


def test_create_and_edit(watched: Watched) -> None:
    path = watched.write("geo/glacier.md", f"# Ice\n\n{GLACIER}\n")
    wait_until(lambda: watched.current(path), what="the new file")
    assert watched.paths_for("how do glaciers shape valleys")[0] == str(path)
    path.write_text(f"# Ice\n\n{VOLCANO}\n", encoding="utf-8")
    wait_until(
        lambda: watched.top("lava viscosity shield volcano") == (str(path), VOLCANO),
        what="the edited text",
    )
    hits = watched.kb.search("glaciers carve valleys", k=5)
    assert all("Glaciers carve" not in h.text for h in hits)  # the old text is gone
    assert watched.kb.status().files == len(watched.indexed())


def test_rename_and_move_across_folders_embed_nothing(watched: Watched) -> None:
    path = watched.write("a/teapot.md", f"# Pottery\n\n{TEAPOT}\n")
    wait_until(lambda: watched.current(path), what="the teapot")
    before = watched.embedded()
    renamed = path.with_name("kiln-notes.md")
    os.rename(path, renamed)
    wait_until(lambda: watched.current(renamed), what="the rename")
    (watched.root / "b/c").mkdir(parents=True)
    moved = watched.root / "b/c/kiln-notes.md"
    os.rename(renamed, moved)
    wait_until(lambda: watched.current(moved), what="the move")
    assert watched.embedded() == before  # paths changed, no vector was computed
    assert str(path) not in watched.indexed() and str(renamed) not in watched.indexed()
    assert watched.paths_for("cobalt glazed porcelain teapot")[0] == str(moved)


def test_moved_folder_keeps_its_vectors(watched: Watched) -> None:
    one = watched.write("trip/space.md", f"# Space\n\n{ORBIT}\n")
    wait_until(lambda: watched.current(one), what="the folder's file")
    before = watched.embedded()
    os.rename(watched.root / "trip", watched.root / "journey")
    new = watched.root / "journey/space.md"
    wait_until(lambda: watched.current(new), what="the folder move")
    assert watched.embedded() == before
    assert watched.paths_for("satellites orbit the equator")[0] == str(new)


def test_atomic_save_through_a_temp_file(watched: Watched) -> None:
    path = watched.write("x.txt", "Tulips bloom in spring across the fields of Holland.\n")
    wait_until(lambda: watched.current(path), what="x.txt")
    saves = [
        (".x.txt.swp", "Saffron comes from the stigmas of crocus flowers.", "saffron crocus"),
        ("x.txt.tmp", "Vanilla pods are the fruit of a climbing orchid.", "vanilla orchid pods"),
    ]
    for temp_name, text, query in saves:  # vim-style, then write-to-temp-and-rename style
        temp = watched.root / temp_name
        temp.write_text(text + "\n", encoding="utf-8")
        os.replace(temp, path)
        wait_until(lambda q=query, t=text: watched.top(q) == (str(path), t), what=temp_name)
    temp_like = [p for p in watched.indexed() if p.endswith((".swp", ".tmp"))]
    assert temp_like == []
    assert [e for e in watched.events if e.path.endswith((".swp", ".tmp"))] == []


def test_touch_without_change_embeds_nothing(watched: Watched) -> None:
    lion = watched.root / "lion.md"
    before_records = watched.indexed()[str(lion)]
    before = watched.embedded()
    later = before_records.mtime_ns + 5 * 10**9
    os.utime(lion, ns=(later, later))
    wait_until(lambda: watched.indexed()[str(lion)].mtime_ns == later, what="the touch")
    assert watched.embedded() == before
    assert watched.indexed()[str(lion)].content_hash == before_records.content_hash


def test_delete_file_and_folder(watched: Watched) -> None:
    a = watched.write("old/a.md", "Penguins huddle together to survive the Antarctic winter.\n")
    b = watched.write("old/deeper/b.md", "Camels store fat, not water, in their humps.\n")
    single = watched.write("single.md", "Octopuses have three hearts and blue blood.\n")
    wait_until(lambda: all(map(watched.current, (a, b, single))), what="files")
    files_before = watched.kb.status().files
    single.unlink()
    for p in (b, a):
        p.unlink()
    (watched.root / "old/deeper").rmdir()
    (watched.root / "old").rmdir()
    wait_until(
        lambda: not ({str(a), str(b), str(single)} & set(watched.indexed())), what="deletions"
    )
    assert watched.kb.status().files == files_before - 3
    assert str(single) not in watched.paths_for("octopus hearts blue blood")
    assert not any(p.startswith(str(watched.root / "old")) for p in watched.paths_for("camels"))


@pytest.mark.timeout(240)
def test_cli_watch_prints_changes_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    docs, data = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    (docs / "first.md").write_text(f"# Lions\n\n{LION}\n")
    cli = [sys.executable, "-m", "desktop_rag.core.cli", "--data-dir", str(data)]
    # One model load only: add without indexing, the watch's start-up reconcile indexes.
    added = subprocess.run(
        [*cli, "folders", "add", "--no-index", str(docs)], capture_output=True, text=True
    )
    assert added.returncode == 0, added.stderr
    (docs / "offline.md").write_text(f"# Ice\n\n{GLACIER}\n")
    proc = subprocess.Popen(
        [*cli, "watch", "--quiet", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []

    def read_until(fragment: str) -> None:
        for line in proc.stdout:
            lines.append(line.rstrip())
            if fragment in line:
                return
        raise AssertionError(f"{fragment!r} never printed; got {lines}")

    try:
        read_until(f"indexed     {docs / 'first.md'}")  # the start-up reconcile
        read_until(f"indexed     {docs / 'offline.md'}")
        read_until("reconciled")
        os.rename(docs / "first.md", docs / "lions.md")
        read_until(f"moved       {docs / 'first.md'}  (to {docs / 'lions.md'})")
        (docs / "new.md").write_text(f"# Pottery\n\n{TEAPOT}\n")
        read_until(f"indexed     {docs / 'new.md'}")
        (docs / "offline.md").unlink()
        read_until(f"removed     {docs / 'offline.md'}")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("stopped")
