"""Every change a person makes to a watched folder, in the app: real window, real services,
real watchdog, real LanceDB, the real MiniLM (and SmolLM2 loading beside it).

One window session goes through the changes in turn. After each, the folder's file count in
the window and what search returns (through the chat's own knowledge base, the one answers
use, opened before the first indexing run created the tables) must both agree with the disk.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from desktop_rag.core.paths import app_paths
from desktop_rag.core.settings import Settings
from desktop_rag.core.sync.loop import WatchTiming
from desktop_rag.services.app_services import build_services
from desktop_rag.services.folder_status import FolderState
from desktop_rag.ui.main_window import MainWindow

TIMING = WatchTiming(quiet_s=0.3, max_delay_s=2.0, availability_s=0.5, poll_s=1.0)
BURST = int(os.environ.get("BURST", 1000))


def note(word: str, topic: str) -> str:
    return f"# {topic}\n\nThe notebook about {topic} mentions the codeword {word} twice: {word}.\n"


class App:
    """One window session for the whole module: each test watches a folder of its own."""

    def __init__(self, data_dir: Path):
        from PySide6.QtCore import QEventLoop, QTimer

        settings = Settings(max_tokens=16, context_size=1024)
        self.services = build_services(app_paths(data_dir), settings, timing=TIMING)
        self.window = MainWindow(self.services, settings)
        self.window.show()
        loop = QEventLoop()
        self.services.chat.model_loaded.connect(loop.quit)
        self.services.chat.model_failed.connect(loop.quit)
        QTimer.singleShot(300_000, loop.quit)
        self.services.start()
        loop.exec()
        self.qtbot = None

    @property
    def kb(self):
        return self.services.chat._engine.knowledge_base

    def add(self, folder: Path, files: dict[str, str]) -> str:
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        added = self.window.add_folder(str(folder))
        assert added == str(folder.resolve())
        return added

    def found_in(self, folder: str, word: str) -> set[str]:
        """Names of the files whose passages with `word` search returns."""
        hits = self.kb.search(word, 10, folders=[folder])
        return {Path(h.path).name for h in hits if word in h.text}

    def settle(self, folder: str, *, files: int, present=(), absent=(),
               state=FolderState.WATCHING, timeout: float = 120.0) -> float:  # fmt: skip
        """Wait until the window shows `files` for `folder` and search agrees: each (word,
        name) of `present` is found in that file, no word of `absent` is found at all.
        Returns the seconds it took."""
        started = time.monotonic()
        problem = ""
        while time.monotonic() < started + timeout:
            self.qtbot.wait(100)
            status = self.services.folders.status(folder)
            if status is None or status.state is not state or status.files != files:
                problem = f"the window shows {status}"
                continue
            wrong = [(w, n) for w, n in present if n not in self.found_in(folder, w)]
            wrong += [(w, self.found_in(folder, w)) for w in absent if self.found_in(folder, w)]
            if not wrong:
                return time.monotonic() - started
            problem = f"search disagrees: {wrong}"
        raise AssertionError(problem)

    def close(self) -> None:
        from PySide6.QtCore import QCoreApplication, QEvent

        self.window._quitting = True
        self.window.close()
        assert self.services._shut_down
        # Deleted now, while the QApplication lives: a window left to the interpreter's
        # exit is destroyed after it, and Qt crashes.
        self.window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.window = self.services = None


@pytest.fixture(scope="module")
def app(qapp, tmp_path_factory):
    session = App(tmp_path_factory.mktemp("data"))
    # Opened by the chat before any folder was indexed: no tables existed yet.
    assert session.kb is not None and not session.kb.store.ready
    yield session
    session.close()


@pytest.fixture
def watched(app, qtbot, tmp_path):
    """A new watched folder with two notes, indexed; returns (app, its path, the folder)."""
    app.qtbot = qtbot
    notes = tmp_path / "notes"
    folder = app.add(notes, {"alpha.md": note("ALPHAWORD", "alpine lakes"),
                             "bravo.md": note("BRAVOWORD", "bridges")})  # fmt: skip
    app.settle(folder, files=2, present=[("ALPHAWORD", "alpha.md"), ("BRAVOWORD", "bravo.md")])
    return app, notes, folder


pytestmark = pytest.mark.slow


def test_create(watched):
    app, notes, folder = watched
    (notes / "charlie.md").write_text(note("CHARLIEWORD", "cherries"))
    app.settle(folder, files=3, present=[("CHARLIEWORD", "charlie.md")])


def test_edit(watched):
    app, notes, folder = watched
    (notes / "alpha.md").write_text(note("ALEPHWORD", "alpine lakes"))
    app.settle(folder, files=2, present=[("ALEPHWORD", "alpha.md")], absent=["ALPHAWORD"])


def test_delete(watched):
    """The seed's bug: a batch that only removed things was dropped by the app."""
    app, notes, folder = watched
    (notes / "bravo.md").unlink()
    app.settle(folder, files=1, present=[("ALPHAWORD", "alpha.md")], absent=["BRAVOWORD"])


def test_rename(watched):
    app, notes, folder = watched
    (notes / "bravo.md").rename(notes / "bridgework.md")
    app.settle(folder, files=2, present=[("BRAVOWORD", "bridgework.md")])
    assert "bravo.md" not in app.found_in(folder, "BRAVOWORD")


def test_move_out_of_the_folder_is_a_delete(watched, tmp_path):
    app, notes, folder = watched
    (tmp_path / "elsewhere").mkdir()
    (notes / "alpha.md").rename(tmp_path / "elsewhere" / "alpha.md")
    app.settle(folder, files=1, absent=["ALPHAWORD"])


def test_move_in(watched, tmp_path):
    app, notes, folder = watched
    outside = tmp_path / "downloads" / "delta.md"
    outside.parent.mkdir()
    outside.write_text(note("DELTAWORD", "deltas"))
    outside.rename(notes / "delta.md")
    app.settle(folder, files=3, present=[("DELTAWORD", "delta.md")])


def test_delete_a_subfolder(watched):
    app, notes, folder = watched
    sub = notes / "echo" / "deeper"
    sub.mkdir(parents=True)
    (sub.parent / "echo1.md").write_text(note("ECHOWORD", "echoes"))
    (sub / "echo2.md").write_text(note("FOXWORD", "foxes"))
    app.settle(folder, files=4, present=[("ECHOWORD", "echo1.md"), ("FOXWORD", "echo2.md")])
    shutil.rmtree(notes / "echo")
    app.settle(folder, files=2, present=[("ALPHAWORD", "alpha.md")],
               absent=["ECHOWORD", "FOXWORD"])  # fmt: skip


def test_an_editors_atomic_save(watched):
    """Write a temporary file beside the original, then rename it over the original."""
    app, notes, folder = watched
    tmp = notes / ".alpha.md.swp"
    tmp.write_text(note("AMBERWORD", "amber"))
    os.replace(tmp, notes / "alpha.md")
    app.settle(folder, files=2, present=[("AMBERWORD", "alpha.md")], absent=["ALPHAWORD"])


def test_the_folder_unmounted_is_unavailable_with_its_index_kept_then_back(watched, tmp_path):
    app, notes, folder = watched
    away = tmp_path / "unplugged"
    notes.rename(away)
    app.settle(folder, files=2, state=FolderState.UNAVAILABLE,
               present=[("ALPHAWORD", "alpha.md")])  # fmt: skip
    (away / "golf.md").write_text(note("GOLFWORD", "golf"))  # changed while away
    (away / "bravo.md").unlink()
    away.rename(notes)
    app.settle(folder, files=2, present=[("GOLFWORD", "golf.md")], absent=["BRAVOWORD"])


def test_the_folder_deleted_then_restored_from_a_backup(watched, tmp_path):
    app, notes, folder = watched
    backup = tmp_path / "backup"
    shutil.copytree(notes, backup)
    shutil.rmtree(notes)
    app.settle(folder, files=2, state=FolderState.UNAVAILABLE,
               present=[("BRAVOWORD", "bravo.md")])  # fmt: skip
    shutil.copytree(backup, notes)
    app.settle(folder, files=2, present=[("BRAVOWORD", "bravo.md")])


def test_a_burst_of_1000_files(watched):
    app, notes, folder = watched
    burst = notes / "burst"
    burst.mkdir()
    for i in range(BURST):
        (burst / f"b{i:04}.md").write_text(note(f"BURST{i:04}WORD", f"batch {i % 7}"))
    last = BURST - 1
    took = app.settle(
        folder,
        files=2 + BURST,
        present=[("BURST0000WORD", "b0000.md"), (f"BURST{last // 2:04}WORD", f"b{last // 2:04}.md"),
                 (f"BURST{last:04}WORD", f"b{last:04}.md")],
        timeout=600,
    )  # fmt: skip
    print(f"{BURST} files searchable {took:.1f} s after the last was written")
