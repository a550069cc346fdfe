"""Optional tray icon: closing the window hides it and folders stay watched."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from desktop_rag.ui.main_window import MainWindow, app_icon


class _TrayActions(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window

    @Slot()
    def _on_show_triggered(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    @Slot()
    def _on_quit_triggered(self) -> None:
        self.window._quitting = True
        self.window.close()
        from PySide6.QtWidgets import QApplication

        QApplication.quit()

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._on_show_triggered()


def install_tray(window: MainWindow) -> QSystemTrayIcon | None:
    """Show a tray icon when the desktop has a tray; None where it does not."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(app_icon(), window)
    tray.setToolTip("Desktop RAG: watching your folders")
    actions = _TrayActions(window)
    menu = QMenu(window)
    menu.addAction("Show Desktop RAG").triggered.connect(actions._on_show_triggered)
    menu.addAction("Quit").triggered.connect(actions._on_quit_triggered)
    tray.setContextMenu(menu)
    tray.activated.connect(actions._on_tray_activated)
    tray.show()
    window.tray = tray
    return tray
