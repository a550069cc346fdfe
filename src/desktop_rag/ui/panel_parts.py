"""Pieces every side panel shares: a bold title and a list that gives way to an empty state."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QListView, QStackedLayout


def bold_label(text: str = "") -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def empty_state(view: QListView, text: str) -> tuple[QLabel, QStackedLayout]:
    """A stack showing `view`, or `text` (in the palette's placeholder colour) when empty."""
    empty = QLabel(text)
    empty.setWordWrap(True)
    empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
    empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    stack = QStackedLayout()
    stack.addWidget(view)
    stack.addWidget(empty)
    return empty, stack
