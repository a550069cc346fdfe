"""The side panel: the passage a source points at, and a way to open its file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.core.chats.history import SavedSource
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

    @property
    def highlighted(self) -> str:
        """The text of the highlighted span ("" when none)."""
        selections = self.passage.extraSelections()
        if not selections:
            return ""
        # Qt writes a line break inside a selection as U+2029 (paragraph separator).
        return selections[0].cursor.selectedText().replace("\u2029", "\n")

    def show_source(self, source: SavedSource | None, span: tuple[int, int] | None = None) -> None:
        """Show a passage; `span` (character offsets in `source.text`) is highlighted and
        scrolled into view: the words that support the sentence whose citation was clicked."""
        self._source = source
        self.passage.setExtraSelections([])
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
        if span is not None and 0 <= span[0] < span[1] <= len(source.text):
            self._highlight(_utf16(source.text, span[0]), _utf16(source.text, span[1]))

    def _highlight(self, start: int, end: int) -> None:
        cursor = QTextCursor(self.passage.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        fmt = QTextCharFormat()
        color = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        color.setAlpha(90)  # readable in light and dark themes
        fmt.setBackground(color)
        selection.format = fmt
        self.passage.setExtraSelections([selection])
        view = QTextCursor(cursor)
        view.setPosition(start)
        self.passage.setTextCursor(view)
        self.passage.ensureCursorVisible()

    @Slot()
    def _on_open_button_clicked(self) -> None:
        if self._source is not None:
            self.open_requested.emit(self._source.path, self._source.page or 0)

    @Slot()
    def _on_close_clicked(self) -> None:
        self.closed.emit()


def _utf16(text: str, offset: int) -> int:
    """A Python string offset as a Qt document position (UTF-16 code units)."""
    return len(text[:offset].encode("utf-16-le")) // 2
