"""Take docs/screenshot.png: the real window, the bundled sample indexed, one answered question.

xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python docs/take_screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from desktop_rag.core.paths import app_paths, resources_dir
from desktop_rag.core.settings import Settings
from desktop_rag.services.app_services import build_services
from desktop_rag.ui.main_window import MainWindow

QUESTION = "How many apple trees does Hollowmere Orchard keep?"
OUT = Path(__file__).resolve().parent / "screenshot.png"


def spin_until(condition, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and not condition():
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    return bool(condition())


def main() -> int:
    _app = QApplication(sys.argv[:1])  # kept alive for the whole run
    settings = Settings(temperature=0.0, max_tokens=160)
    services = build_services(app_paths(Path(tempfile.mkdtemp(prefix="shot-"))), settings)
    window = MainWindow(services, settings, opener=lambda path, page: None)
    window.resize(1360, 840)
    window.show()
    services.start()
    folder = window.add_folder(str(resources_dir() / "sample"))
    if not spin_until(
        lambda: (
            services.folders.status(folder).state.value == "watching"
            and services.folders.status(folder).files > 0
            and services.chat.model_info is not None
        ),
        300,
    ):
        print("the sample folder was not indexed in time", file=sys.stderr)
        return 1
    finished: list[object] = []
    services.conversations.message_finished.connect(finished.append)
    services.conversations.send(QUESTION)
    if not spin_until(lambda: finished, 300):
        print("no answer in time", file=sys.stderr)
        return 1
    answer = window.chat_panel.view.widgets()[-1]
    if answer.sources:
        answer.sources_label.linkActivated.emit(f"source:{answer.sources[-1].number}")
    spin_until(lambda: False, 1.0)  # let the last repaint land
    window.grab().save(str(OUT))
    print(f"saved {OUT}")
    window._quitting = True
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
