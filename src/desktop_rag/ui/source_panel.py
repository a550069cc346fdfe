"""The side panel: the passage a source points at, and a way to open its file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.core.history import SavedSource
from desktop_rag.core.path_keys import display_path


class SourcePanel(QWidget):
    open_requested = Signal(str, int)  # path, page (0: none)
    closed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._source: SavedSource | None = None
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.path_label = QLabel()
        self.path_label.setWordWrap(True)
        self.path_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.passage = QTextBrowser()
        self.passage.setObjectName("sourcePassage")
        self.passage.setOpenLinks(False)
        self.open_button = QPushButton("Open file")
        self.open_button.setToolTip("Open the file in its usual application")
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Close the side panel")
        close.setAutoRaise(True)
        close.clicked.connect(self._on_close_clicked)

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.path_label)
        layout.addWidget(self.passage, 1)
        layout.addWidget(self.open_button)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.show_source(None)

    @property
    def source(self) -> SavedSource | None:
        return self._source

    def show_source(self, source: SavedSource | None) -> None:
        self._source = source
        if source is None:
            self.title.setText("Sources")
            self.path_label.setText("")
            self.passage.setPlainText(
                "Click a source under an answer to read the passage it cites here."
            )
            self.open_button.setEnabled(False)
            return
        where = f", page {source.page}" if source.page else ""
        shown = display_path(source.path)
        self.title.setText(f"[{source.number}] {Path(shown).name}{where}")
        self.path_label.setText(shown)
        self.passage.setPlainText(source.text)
        self.open_button.setEnabled(True)

    @Slot()
    def _on_open_button_clicked(self) -> None:
        if self._source is not None:
            self.open_requested.emit(self._source.path, self._source.page or 0)

    @Slot()
    def _on_close_clicked(self) -> None:
        self.closed.emit()
