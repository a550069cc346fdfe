"""Which watched folders the open chat searches: every one, or the ones ticked here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QMenu, QToolButton

MAX_LABEL_CHARS = 48


def scope_label(folders: Sequence[str]) -> str:
    if not folders:
        return "Search: all folders"
    text = "Search: " + ", ".join(Path(f).name or f for f in folders)
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


class ScopeButton(QToolButton):
    scope_chosen = Signal(object)  # tuple of folders; () searches all of them

    def __init__(self, parent=None):
        super().__init__(parent)
        # Asked each time the menu opens, so it always lists the folders watched now.
        self.watched: Callable[[], list[str]] = list
        self._scope: tuple[str, ...] = ()
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAutoRaise(True)
        self.setAccessibleName("Folders this chat searches")
        self.setMenu(QMenu(self))
        self.menu().aboutToShow.connect(self._on_menu_aboutToShow)
        self.show_scope(())

    def show_scope(self, folders: Sequence[str]) -> None:
        self._scope = tuple(folders)
        self.setText(scope_label(self._scope))
        self.setToolTip(
            "This chat searches only:\n" + "\n".join(self._scope)
            if self._scope
            else "This chat searches every watched folder; choose some to narrow it"
        )

    @Slot()
    def _on_menu_aboutToShow(self) -> None:
        menu = self.menu()
        menu.clear()
        every = menu.addAction("All folders")
        every.setCheckable(True)
        every.setChecked(not self._scope)
        every.triggered.connect(self._on_all_triggered)
        menu.addSeparator()
        watched = self.watched()
        # A folder removed since it was chosen stays listed, so it can be unticked.
        for folder in sorted(set(watched) | set(self._scope)):
            name = Path(folder).name or folder
            action = menu.addAction(name if folder in watched else f"{name} (no longer watched)")
            action.setToolTip(folder)
            action.setData(folder)
            action.setCheckable(True)
            action.setChecked(folder in self._scope)
            action.toggled.connect(self._on_folder_toggled)

    @Slot()
    def _on_all_triggered(self) -> None:
        self.scope_chosen.emit(())

    @Slot(bool)
    def _on_folder_toggled(self, _checked: bool) -> None:
        ticked = [a.data() for a in self.menu().actions() if a.data() and a.isChecked()]
        self.scope_chosen.emit(tuple(ticked))
