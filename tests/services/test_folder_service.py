"""FolderService with real watchdog, the real sync engine and the fake knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_rag.core.sync.folders import FolderStore
from desktop_rag.core.sync.loop import WatchTiming
from desktop_rag.services.folder_service import FolderService
from desktop_rag.services.folder_status import FolderState
from desktop_rag.services.index_service import IndexService

TIMING = WatchTiming(quiet_s=0.2, max_delay_s=2.0, availability_s=0.2, poll_s=0.5)


@pytest.fixture
def folders(qtbot, tmp_path, fake_kb):
    data = tmp_path / "data"
    data.mkdir()
    index = IndexService(lambda: fake_kb, data / "index", data / "state.sqlite3", timing=TIMING)
    service = FolderService(FolderStore(data / "state.sqlite3"), index)
    service.start()
    index.open()
    yield service
    service.stop()
    assert index.shutdown()


def _state(service, folder: Path):
    return service.status(str(folder.resolve()))


def _wait(qtbot, service, folder: Path, state: FolderState, files: int | None = None):
    def ok():
        status = _state(service, folder)
        assert status is not None and status.state is state
        if files is not None:
            assert status.files == files

    qtbot.waitUntil(ok, timeout=60000)


def test_watching_pause_resume_remove(qtbot, tmp_path, folders, fake_kb):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("alpha")
    seen_states: list[FolderState] = []
    folders.folder_changed.connect(lambda s: seen_states.append(s.state))
    assert folders.add(str(notes)) == str(notes.resolve())
    _wait(qtbot, folders, notes, FolderState.WATCHING, files=1)
    assert seen_states[0] is FolderState.QUEUED and FolderState.INDEXING in seen_states

    (notes / "b.txt").write_text("beta, written while watched")
    _wait(qtbot, folders, notes, FolderState.WATCHING, files=2)
    assert str((notes / "b.txt").resolve()) in fake_kb.texts

    folders.pause(str(notes.resolve()))
    assert _state(folders, notes).state is FolderState.PAUSED
    (notes / "c.txt").write_text("gamma, written while paused")
    qtbot.wait(600)
    assert str((notes / "c.txt").resolve()) not in fake_kb.texts

    folders.resume(str(notes.resolve()))
    _wait(qtbot, folders, notes, FolderState.WATCHING, files=3)

    with qtbot.waitSignal(folders.index.removed, timeout=5000):
        folders.remove(str(notes.resolve()))
    assert _state(folders, notes) is None
    assert fake_kb.texts == {"/docs/rover.md": "The moon rover Quillfeather is painted teal."}


def test_a_vanished_folder_is_unavailable_and_comes_back(qtbot, tmp_path, folders):
    notes = tmp_path / "usb"
    notes.mkdir()
    (notes / "a.md").write_text("alpha")
    folders.add(str(notes))
    _wait(qtbot, folders, notes, FolderState.WATCHING, files=1)
    hidden = tmp_path / "elsewhere"
    notes.rename(hidden)
    _wait(qtbot, folders, notes, FolderState.UNAVAILABLE)
    hidden.rename(notes)
    _wait(qtbot, folders, notes, FolderState.WATCHING, files=1)


def test_adding_a_folder_inside_a_watched_one_is_refused(qtbot, tmp_path, folders):
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    folders.add(str(notes))
    with qtbot.waitSignal(folders.notice) as notice:
        assert folders.add(str(notes / "sub")) is None
    assert "already indexed as part of" in notice.args[0]


def test_the_index_opened_by_the_app_is_checked_for_its_vector_index(qtbot, folders, fake_kb):
    """An index made before vector indexes existed gets one without waiting for a change:
    the sync loop asks for the (background) check as soon as it has opened the engine."""
    qtbot.waitUntil(lambda: fake_kb.vector_index_requests == 1, timeout=10000)
