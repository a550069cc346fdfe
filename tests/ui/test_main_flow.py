"""The main flow on the real window with the fake engine: folder, index, ask, sources."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop_rag.services.folder_status import FolderState
from desktop_rag.ui.folder_list_model import FolderRole


def _notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "rover.md").write_text("# Rover\nThe moon rover Quillfeather is painted teal.\n")
    (folder / "budget.txt").write_text("The garden budget for 2031 is 400 crowns.\n")
    (folder / "broken.txt").write_text("CORRUPT bytes here\n")
    return folder


def _wait_indexed(qtbot, window, folder: Path) -> None:
    model = window.folder_model

    def indexed():
        row = model.row_of(str(folder.resolve()))
        assert row >= 0
        status = model.status(row)
        assert status.state is FolderState.WATCHING and status.files == 2

    qtbot.waitUntil(indexed, timeout=60000)  # the first sync imports lancedb


def test_first_run_welcome_then_folder_indexed(qtbot, window, tmp_path):
    assert window.centre.currentWidget() is window.welcome
    folder = _notes(tmp_path)
    window.add_folder(str(folder))
    assert window.centre.currentWidget() is window.chat_panel
    _wait_indexed(qtbot, window, folder)
    status = window.folder_model.status(0)
    assert status.errors == 1
    assert window.folder_model.index(0).data(FolderRole.DETAIL) == "Watching · 2 files · 1 problem"
    qtbot.waitUntil(lambda: window.failed_model.rowCount() == 1, timeout=3000)
    (failed,) = window.failed_model.files()
    assert failed.path.endswith("broken.txt") and "damaged" in failed.reason
    qtbot.waitUntil(lambda: "2 files" in window.status.index_label.text(), timeout=3000)
    assert "FakeLM" in window.status.model_label.text()
    assert window.status.gpu_label.text() == "CPU only: no NVIDIA GPU found"


def test_ask_streams_answer_with_sources_and_opens_source(qtbot, window, tmp_path):
    folder = _notes(tmp_path)
    window.add_folder(str(folder))
    _wait_indexed(qtbot, window, folder)

    tokens: list[str] = []
    window.services.chat.token.connect(lambda rid, text: tokens.append(text))
    qtbot.keyClicks(window.chat_panel.input, "What colour is the rover Quillfeather?")
    with qtbot.waitSignal(window.services.conversations.message_finished, timeout=5000) as done:
        qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Return)
    message = done.args[0]
    assert message.text.startswith("Found in rover.md [1].")
    assert "".join(tokens) == message.text
    assert [s.path for s in message.sources] == [str((folder / "rover.md").resolve())]
    assert window.chat_panel.input.toPlainText() == ""

    widgets = window.chat_panel.view.widgets()
    assert [w.role for w in widgets] == ["user", "assistant"]
    assert "rover.md" in widgets[1].sources_label.text()
    assert "source:1" in widgets[1].body.text()  # the [1] in the text is a link

    widgets[1].sources_label.linkActivated.emit("source:1")
    assert window.source_panel.isVisible()
    assert "painted teal" in window.source_panel.passage.toPlainText()
    assert window.opener.calls == [(str((folder / "rover.md").resolve()), 0)]


def test_shift_enter_adds_a_newline_instead_of_sending(qtbot, window, tmp_path):
    window.add_folder(str(_notes(tmp_path)))
    qtbot.keyClicks(window.chat_panel.input, "line one")
    qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.chat_panel.input, "line two")
    assert window.chat_panel.input.toPlainText() == "line one\nline two"
    assert window.chat_panel.view.widgets() == []


def test_an_answer_shows_its_citations_spans_and_unsupported_sentences(
    qtbot, window, fake_engine, tmp_path
):
    folder = _notes(tmp_path)
    window.add_folder(str(folder))
    _wait_indexed(qtbot, window, folder)
    fake_engine.reply = [
        "The moon rover Quillfeather",
        " is painted teal.",
        " It was built on Mars in 2001.",
    ]
    partials = []
    window.services.conversations.message_attributed.connect(
        lambda _id, partial: partials.append(partial)
    )
    qtbot.keyClicks(window.chat_panel.input, "What colour is the rover Quillfeather?")
    with qtbot.waitSignal(window.services.conversations.message_finished, timeout=5000) as done:
        qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Return)
    message = done.args[0]
    # While it streamed, each finished sentence got its citation.
    assert partials[0].text == "The moon rover Quillfeather is painted teal [1]."
    assert (
        message.text
        == "The moon rover Quillfeather is painted teal [1]. It was built on Mars in 2001."
    )
    assert [s["supported"] for s in message.meta["sentences"]] == [True, False]

    widget = window.chat_panel.view.widgets()[1]
    body = widget.body.text()
    assert "source:1:0" in body  # the citation carries its sentence, for the span
    assert "not in the sources](unsupported:1)" in body
    assert "1 sentence not in the sources" in widget._note.text()

    widget.body.linkActivated.emit("source:1:0")
    assert window.source_panel.isVisible()
    assert window.source_panel.highlighted == "The moon rover Quillfeather is painted teal."

    # Reopened from the saved history, the marks are still there.
    window.chat_panel.view.set_messages(
        window.services.conversations.history.messages(message.conversation_id)
    )
    reopened = window.chat_panel.view.widgets()[1]
    assert [s.supported for s in reopened.sentences] == [True, False]
    assert "unsupported:1" in reopened.body.text()


def test_an_answer_cut_at_a_loop_says_so_and_keeps_saying_so(qtbot, window, fake_engine, tmp_path):
    folder = _notes(tmp_path)
    window.add_folder(str(folder))
    _wait_indexed(qtbot, window, folder)
    fake_engine.reply = ["The moon rover Quillfeather is painted teal."]
    fake_engine.loop_cut = True
    with qtbot.waitSignal(window.services.conversations.message_finished, timeout=5000) as done:
        window.services.conversations.send("What colour is the rover Quillfeather?")
    message = done.args[0]
    assert message.meta["loop_cut"] is True and message.complete  # not "stopped"
    widget = window.chat_panel.view.widgets()[1]
    assert "cut where the model began repeating itself" in widget._note.text()
    saved = window.services.conversations.history.messages(message.conversation_id)[1]
    assert saved.meta["loop_cut"] is True
