"""Window interactions with the fake engine: Stop/Esc, regenerate, edit, chats, drops, menus."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from desktop_rag.services.folder_status import FolderState, FolderStatus
from desktop_rag.ui.conversation_list_model import ConversationRole
from tests.ui.test_main_flow import _notes, _wait_indexed


def _ask(qtbot, window, question: str):
    with qtbot.waitSignal(window.services.conversations.message_finished, timeout=5000) as done:
        window.chat_panel.input.setPlainText(question)
        qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Return)
    return done.args[0]


def test_escape_stops_a_long_answer_at_once(qtbot, window, fake_engine, tmp_path):
    window.add_folder(str(_notes(tmp_path)))
    _wait_indexed(qtbot, window, tmp_path / "notes")
    fake_engine.token_delay_s, fake_engine.filler_words = 0.05, 500
    with qtbot.waitSignal(window.services.chat.token, timeout=5000):
        window.services.conversations.send("rover Quillfeather colour?")
    assert window.chat_panel.send_button.text() == "Stop"
    started = time.monotonic()
    with qtbot.waitSignal(window.services.conversations.answering_ended, timeout=1000):
        qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Escape)
    assert time.monotonic() - started < 0.5
    assert window.chat_panel.send_button.text() == "Send"
    answer = window.chat_panel.view.widgets()[-1]
    assert answer.text.startswith("Found in rover.md") and "· stopped" in answer._note.text()


def test_regenerate_edit_and_copy(qtbot, window, fake_engine, tmp_path):
    window.add_folder(str(_notes(tmp_path)))
    _wait_indexed(qtbot, window, tmp_path / "notes")
    first = _ask(qtbot, window, "rover Quillfeather colour?")
    widgets = window.chat_panel.view.widgets()
    assert widgets[1]._regenerate.isVisibleTo(widgets[1])
    assert widgets[0]._edit.isVisibleTo(widgets[0])

    with qtbot.waitSignal(window.services.conversations.message_finished, timeout=5000) as again:
        widgets[1]._regenerate.click()
    assert again.args[0].id != first.id
    assert len(window.chat_panel.view.widgets()) == 2

    window.chat_panel.view.widgets()[0]._edit.click()
    assert window.chat_panel.input.toPlainText() == "rover Quillfeather colour?"
    assert window.chat_panel.editing_label.isVisibleTo(window.chat_panel)
    window.chat_panel.input.setPlainText("garden budget 2031?")
    with qtbot.waitSignal(window.services.conversations.message_finished, timeout=5000) as edited:
        qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Return)
    assert edited.args[0].text.startswith("Found in budget.txt")
    texts = [w.text for w in window.chat_panel.view.widgets()]
    assert texts[0] == "garden budget 2031?" and len(texts) == 2

    window.copy_action.trigger()
    assert QApplication.clipboard().text() == edited.args[0].text


def test_export_writes_the_open_chat_as_markdown(qtbot, window, tmp_path, monkeypatch):
    window.export_action.trigger()  # nothing open yet: a message, no dialog
    assert "Nothing to export" in window.status.currentMessage()
    window.add_folder(str(_notes(tmp_path)))
    _wait_indexed(qtbot, window, tmp_path / "notes")
    answer = _ask(qtbot, window, "rover Quillfeather colour?")
    target = tmp_path / "exported.md"
    offered: list[str] = []

    def save_as(_parent, _title, start, _filter):
        offered.append(start)
        return str(target), "Markdown (*.md)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    window.export_action.trigger()
    assert Path(offered[0]).name == "rover Quillfeather colour.md"
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# rover Quillfeather colour?\n")
    assert "## You\n\nrover Quillfeather colour?" in text
    assert answer.text.strip() in text and "rover.md" in text


def test_conversations_survive_a_restart_and_can_be_renamed_and_deleted(
    qtbot, make_window, tmp_path
):
    window = make_window()
    window.add_folder(str(_notes(tmp_path)))
    _wait_indexed(qtbot, window, tmp_path / "notes")
    answer = _ask(qtbot, window, "rover Quillfeather colour?")
    window.new_chat_action.trigger()
    assert window.chat_panel.view.widgets() == []
    _ask(qtbot, window, "garden budget 2031?")
    assert window.conversation_model.rowCount() == 2
    window._quitting = True
    window.close()

    again = make_window()
    model = again.conversation_model
    assert [model.index(r).data() for r in range(2)] == [
        "garden budget 2031?",
        "rover Quillfeather colour?",
    ]
    again.conversation_panel.view.clicked.emit(model.index(1))
    texts = [w.text for w in again.chat_panel.view.widgets()]
    assert texts == ["rover Quillfeather colour?", answer.text]
    assert again.chat_panel.view.widgets()[1].sources[0].path.endswith("rover.md")

    model.setData(model.index(1), "Rover")
    assert [c.title for c in again.services.conversations.conversations()][1] == "Rover"
    again.conversation_panel.delete_requested.emit(model.index(0).data(ConversationRole.ID))
    assert [model.index(r).data() for r in range(model.rowCount())] == ["Rover"]


def test_dropping_a_folder_adds_it(qtbot, window, tmp_path):
    folder = _notes(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    _wait_indexed(qtbot, window, folder)


def test_folder_context_menu_offers_the_right_actions(qtbot, window, tmp_path):
    panel = window.folder_panel
    watching = FolderStatus(str(tmp_path), FolderState.WATCHING)
    labels = [a.text() for a in panel.menu_for(watching).actions() if a.text()]
    assert labels == ["Pause watching", "Re-index now", "Remove from index"]
    paused = FolderStatus(str(tmp_path), FolderState.PAUSED)
    assert panel.menu_for(paused).actions()[0].text() == "Resume watching"
    gone = FolderStatus(str(tmp_path), FolderState.UNAVAILABLE)
    reindex = next(a for a in panel.menu_for(gone).actions() if a.text() == "Re-index now")
    assert not reindex.isEnabled()


def test_pause_from_the_panel_reaches_the_folder_service(qtbot, window, tmp_path):
    folder = _notes(tmp_path)
    window.add_folder(str(folder))
    _wait_indexed(qtbot, window, folder)
    window.folder_panel.trigger("pause", str(folder.resolve()))
    status = window.folder_model.status(0)
    assert status.state is FolderState.PAUSED
    assert window.services.folders.store.get(str(folder.resolve())).paused


def test_welcome_sample_button_adds_the_bundled_samples(qtbot, window):
    assert window.centre.currentWidget() is window.welcome
    window.welcome.sample_button.click()
    qtbot.waitUntil(lambda: window.folder_model.rowCount() == 1, timeout=5000)
    assert Path(window.folder_model.status(0).path).name == "sample"
    assert window.centre.currentWidget() is window.chat_panel
