"""A chat can search only some watched folders; the choice is saved with the chat."""

from __future__ import annotations

from pathlib import Path

from desktop_rag.services.folder_status import FolderState
from tests.ui.test_main_flow import _notes, _wait_indexed
from tests.ui.test_main_window import _ask


def _tick(window, name: str | None) -> None:
    """Open the scope menu as a click would, and tick `name` (None: "All folders")."""
    button = window.chat_panel.scope_button
    button.menu().aboutToShow.emit()
    actions = [a for a in button.menu().actions() if not a.isSeparator()]
    action = next(a for a in actions if a.text() == (name or "All folders"))
    action.trigger()


def test_a_chat_limited_to_one_folder_keeps_its_scope(qtbot, window, fake_engine, tmp_path):
    notes = _notes(tmp_path)
    other = tmp_path / "garage"
    other.mkdir()
    (other / "rover-parts.md").write_text("Spare wheels for the moon rover Quillfeather.\n")
    for folder in (notes, other):
        window.add_folder(str(folder))
    _wait_indexed(qtbot, window, notes)
    qtbot.waitUntil(
        lambda: window.services.folders.status(str(other.resolve())).state is FolderState.WATCHING,
        timeout=30000,
    )
    button = window.chat_panel.scope_button
    assert button.text() == "Search: all folders"

    _tick(window, "garage")
    assert button.text() == "Search: garage"
    answer = _ask(qtbot, window, "rover Quillfeather moon?")  # rover.md in notes matches too
    assert [Path(s.path).parent.name for s in answer.sources] == ["garage"]
    assert fake_engine.folders_asked[-1] == (str(other.resolve()),)

    chat_id = window.services.conversations.current_id
    window.new_chat_action.trigger()
    assert button.text() == "Search: all folders"  # a new chat starts with every folder
    _ask(qtbot, window, "rover Quillfeather wheels?")
    assert fake_engine.folders_asked[-1] == ()

    window.services.conversations.open(chat_id)  # the saved chat comes back with its scope
    assert button.text() == "Search: garage"
    with qtbot.waitSignal(window.services.index.removed, timeout=10000):
        window.services.folders.remove(str(other.resolve()))
    _tick(window, "garage (no longer watched)")  # still listed, so it can be unticked
    assert button.text() == "Search: all folders"
    button.menu().aboutToShow.emit()
    assert [a.text() for a in button.menu().actions() if a.text()] == ["All folders", "notes"]
    _tick(window, None)
    assert window.services.conversations.history.conversation(chat_id).folders == ()
