"""The tray keeps folders watched after the window closes; its menu shows or quits the app.

The offscreen platform has no system tray, so the icon itself is a stand-in here; the
window's close logic and the tray's actions are the real ones.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from desktop_rag.ui.tray import _TrayActions, install_tray


class _ShownTray:
    def __init__(self):
        self.visible = True

    def isVisible(self) -> bool:
        return self.visible

    def hide(self) -> None:
        self.visible = False


def test_close_hides_to_the_tray_and_quit_stops_everything(
    qtbot, window, fake_kb, tmp_path, monkeypatch
):
    notes = tmp_path / "notes"
    notes.mkdir()
    window.add_folder(str(notes))
    tray = _ShownTray()
    window.tray = tray
    window.close()
    assert not window.isVisible()
    assert not window.services._shut_down

    (notes / "later.md").write_text("written while only the tray icon shows")
    qtbot.waitUntil(lambda: str((notes / "later.md").resolve()) in fake_kb.texts, timeout=30000)

    actions = _TrayActions(window)
    actions._on_tray_activated(QSystemTrayIcon.ActivationReason.Trigger)
    assert window.isVisible()

    quits: list[bool] = []
    monkeypatch.setattr(QApplication, "quit", lambda: quits.append(True))
    actions._on_quit_triggered()
    assert quits == [True]
    assert window.services._shut_down and not tray.visible and not window.isVisible()


def test_no_tray_on_a_desktop_without_one(qtbot, window):
    if QSystemTrayIcon.isSystemTrayAvailable():
        return
    assert install_tray(window) is None and window.tray is None
