"""The desktop app on the real parts: MiniLM, LanceDB, SmolLM2 in its child process, watchdog.

One window session does the main flow (fewer model loads), then a second window on the same
data folder finds the conversation again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_rag.core.paths import app_paths
from desktop_rag.core.rag.citations import strip_citations
from desktop_rag.core.settings import Settings
from desktop_rag.services.app_services import build_services
from desktop_rag.services.folder_status import FolderState
from desktop_rag.ui.main_window import MainWindow

FACT = "The night cook of the Vellmar glacier expedition is Oriel Fanshawe-Quist."
HEAVY = ("torch", "lancedb", "llama_cpp", "sentence_transformers")


class _Opener:
    def __init__(self):
        self.calls: list[tuple[str, int]] = []

    def __call__(self, path: str, page: int) -> None:
        self.calls.append((path, page))


def _open_window(qtbot, data_dir: Path, settings: Settings) -> MainWindow:
    services = build_services(app_paths(data_dir), settings)
    window = MainWindow(services, settings, opener=_Opener())
    qtbot.addWidget(window)
    window.show()
    services.start()
    return window


def _close(window: MainWindow) -> None:
    window._quitting = True
    window.close()
    assert window.services._shut_down


@pytest.mark.slow
def test_folder_index_ask_sources_stop_restart(qtbot, tmp_path, data_dir, no_network):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "expedition.md").write_text(
        "# Vellmar expedition\n\n" + FACT + " He bakes rye bread at midnight.\n"
    )
    (notes / "garden.txt").write_text("The allotment grows leeks, beans and blue potatoes.\n")
    settings = Settings(max_tokens=400, temperature=0.0, context_size=2048)

    window = _open_window(qtbot, data_dir, settings)
    conversations = window.services.conversations
    try:
        # Add the folder; it is indexed in the background and then watched.
        window.add_folder(str(notes))
        folder = str(notes.resolve())

        def indexed():
            status = window.services.folders.status(folder)
            assert status is not None and status.state is FolderState.WATCHING
            assert status.files == 2

        qtbot.waitUntil(indexed, timeout=300_000)
        qtbot.waitUntil(lambda: "2 files" in window.status.index_label.text(), timeout=30_000)

        # Ask: tokens stream in order, and the final text is exactly what streamed.
        tokens: list[str] = []
        window.services.chat.token.connect(lambda _rid, text: tokens.append(text))
        answers: list[object] = []
        window.services.chat.answered.connect(lambda _rid, answer: answers.append(answer))
        window.chat_panel.input.setPlainText("Who is the night cook of the Vellmar expedition?")
        with qtbot.waitSignal(conversations.message_finished, timeout=300_000) as done:
            qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Return)
        message = done.args[0]
        (answer,) = answers
        assert tokens and message.text
        assert answer.text == message.text

        # The text shown is what streamed, with citations placed by attribution.
        def words(text: str) -> str:
            return " ".join(strip_citations(text).split())

        assert words("".join(tokens)) == words(message.text)
        assert (
            "CPU only" in window.status.gpu_label.text() or "GPU" in window.status.gpu_label.text()
        )

        # Its sources point at the note with the fact; clicking one shows the passage.
        assert message.sources
        expedition = str((notes / "expedition.md").resolve())
        source = next(s for s in message.sources if s.path == expedition)
        widget = window.chat_panel.view.widget_for(message.id)
        assert "expedition.md" in widget.sources_label.text()
        widget.sources_label.linkActivated.emit(f"source:{source.number}")
        assert window.source_panel.isVisible()
        assert "Oriel Fanshawe-Quist" in window.source_panel.passage.toPlainText()
        assert window.opener.calls == [(expedition, 0)]

        # Every sentence was checked against the passages; a supported one's citation
        # opens its passage with the supporting words highlighted.
        verdicts = message.meta["sentences"]
        assert verdicts and all(v["supported"] in (True, False) for v in verdicts)
        assert [s.supported for s in widget.sentences] == [v["supported"] for v in verdicts]
        supported = [i for i, s in enumerate(widget.sentences) if s.supported]
        if supported:
            first = widget.sentences[supported[0]]
            widget.body.linkActivated.emit(f"source:{first.sources[0]}:{supported[0]}")
            shown = window.source_panel.source
            assert shown.text[slice(*first.span)] == window.source_panel.highlighted

        # A long answer stops at once with Esc, and the model is free again right after.
        with qtbot.waitSignal(window.services.chat.token, timeout=300_000):
            conversations.send(
                "Write a very long, detailed story about the Vellmar expedition's cook."
            )
        started = time.monotonic()
        with qtbot.waitSignal(conversations.answering_ended, timeout=2000):
            qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Escape)
        assert time.monotonic() - started < 0.5
        qtbot.waitUntil(lambda: window.services.chat._runner.pending() == 0, timeout=1500)
        stopped = window.chat_panel.view.widgets()[-1]
        assert stopped.role == "assistant" and "stopped" in stopped._note.text()
        host = window.services.chat._engine._host
        child = host.child_pid
        assert child is not None
    finally:
        _close(window)
    assert not Path(f"/proc/{child}").exists() or _is_zombie(child)

    # A new window on the same data folder finds the conversation, answer and sources.
    again = _open_window(qtbot, data_dir, settings)
    try:
        model = again.conversation_model
        assert model.rowCount() == 1
        assert model.index(0).data() == "Who is the night cook of the Vellmar expedition?"
        again.conversation_panel.view.clicked.emit(model.index(0))
        widgets = again.chat_panel.view.widgets()
        assert [w.role for w in widgets] == ["user", "assistant", "user", "assistant"]
        assert widgets[1].text == message.text
        assert any(s.path == expedition for s in widgets[1].sources)
        assert "Vellmar" in widgets[2].text
        assert again.services.folders.status(folder) is not None
    finally:
        _close(again)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


SHOW_SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from desktop_rag import app
    from desktop_rag.ui import main_window

    HEAVY = {heavy!r}
    original_show = main_window.MainWindow.show

    def report():
        print("SHOWN", [m for m in HEAVY if m in sys.modules], flush=True)
        QApplication.quit()

    def show(self):
        original_show(self)
        QTimer.singleShot(0, report)

    main_window.MainWindow.show = show
    sys.exit(app.main(["--data-dir", sys.argv[1]]))
    """
)


def test_window_shows_fast_without_heavy_imports(tmp_path):
    script = SHOW_SCRIPT.format(heavy=HEAVY)
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        shown_after = time.monotonic() - started
    finally:
        proc.wait(120)
    assert line.startswith("SHOWN"), line
    assert line.strip() == "SHOWN []"  # nothing heavy imported before the window showed
    assert shown_after < 1.5, f"window took {shown_after:.2f} s"
    assert proc.returncode == 0
