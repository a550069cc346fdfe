"""One message of the conversation: rendered Markdown, its sources, and its actions."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout

from desktop_rag.core.history import Message, SavedSource
from desktop_rag.ui.markdown_text import link_citations, snippet, source_label, source_number

_SELECTABLE = (
    Qt.TextInteractionFlag.TextSelectableByMouse
    | Qt.TextInteractionFlag.TextSelectableByKeyboard
    | Qt.TextInteractionFlag.LinksAccessibleByMouse
    | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
)


class MessageWidget(QFrame):
    source_clicked = Signal(int, int)  # message id, source number
    copy_requested = Signal(int)
    regenerate_requested = Signal(int)
    edit_requested = Signal(int)

    def __init__(self, message: Message, parent=None):
        super().__init__(parent)
        self.message_id = message.id
        self.role = message.role
        self._text = ""
        self._sources: tuple[SavedSource, ...] = ()
        self.setObjectName("message")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAutoFillBackground(True)
        # Palette roles only, so light and dark system themes both look right.
        self.setBackgroundRole(
            QPalette.ColorRole.AlternateBase if message.role == "user" else QPalette.ColorRole.Base
        )

        self._who = QLabel("You" if message.role == "user" else "Answer")
        font = self._who.font()
        font.setBold(True)
        self._who.setFont(font)
        self._note = QLabel()
        self._note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._copy = self._tool("Copy", "Copy this message", self._on_copy_clicked)
        self._regenerate = self._tool("Regenerate", "Answer again", self._on_regenerate_clicked)
        self._edit = self._tool("Edit", "Edit and resend this question", self._on_edit_clicked)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        for widget in (self._who, self._note):
            header.addWidget(widget)
        header.addStretch(1)
        for widget in (self._copy, self._edit, self._regenerate):
            header.addWidget(widget)

        self.body = QLabel()
        self.body.setObjectName("messageBody")
        self.body.setTextFormat(Qt.TextFormat.MarkdownText)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(_SELECTABLE)
        self.body.setOpenExternalLinks(False)
        self.body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.body.linkActivated.connect(self._on_body_linkActivated)

        self.sources_label = QLabel()
        self.sources_label.setObjectName("messageSources")
        self.sources_label.setTextFormat(Qt.TextFormat.RichText)
        self.sources_label.setWordWrap(True)
        self.sources_label.setTextInteractionFlags(_SELECTABLE)
        self.sources_label.linkActivated.connect(self._on_body_linkActivated)
        self.sources_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.body)
        layout.addWidget(self.sources_label)
        self.set_actions(copy=False, regenerate=False, edit=False)
        self.show_message(message)

    def _tool(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # State.

    @property
    def text(self) -> str:
        return self._text

    @property
    def sources(self) -> tuple[SavedSource, ...]:
        return self._sources

    def show_message(self, message: Message) -> None:
        self._sources = message.sources
        self.set_text(message.text)
        self._show_sources()
        note = ""
        meta = message.meta or {}
        if meta.get("error"):
            note = f"· failed: {meta['error']}"
        elif not message.complete and message.role == "assistant" and message.text:
            note = "· stopped"
        elif meta.get("model"):
            note = f"· {meta['model']}"
        self._note.setText(note)
        self._note.setToolTip(note)

    def set_text(self, text: str) -> None:
        self._text = text
        known = {s.number for s in self._sources}
        shown = link_citations(text, known) if self.role == "assistant" else text
        if self.role == "assistant" and not text:
            shown = "_Thinking…_"
        self.body.setText(shown)

    def set_actions(self, *, copy: bool, regenerate: bool, edit: bool) -> None:
        self._copy.setVisible(copy)
        self._regenerate.setVisible(regenerate)
        self._edit.setVisible(edit)

    def _show_sources(self) -> None:
        if not self._sources:
            self.sources_label.hide()
            return
        rows = []
        for source in self._sources:
            label = html.escape(source_label(source.path, source.page))
            text = html.escape(snippet(source.text, 110))
            marker = "" if source.cited else " (not cited)"
            rows.append(
                f'<a href="source:{source.number}">[{source.number}] {label}</a>'
                f"{marker} — <span>{text}</span>"
            )
        self.sources_label.setText("<b>Sources</b><br>" + "<br>".join(rows))
        self.sources_label.show()

    # Slots.

    @Slot(str)
    def _on_body_linkActivated(self, href: str) -> None:
        number = source_number(href)
        if number is not None:
            self.source_clicked.emit(self.message_id, number)

    @Slot()
    def _on_copy_clicked(self) -> None:
        self.copy_requested.emit(self.message_id)

    @Slot()
    def _on_regenerate_clicked(self) -> None:
        self.regenerate_requested.emit(self.message_id)

    @Slot()
    def _on_edit_clicked(self) -> None:
        self.edit_requested.emit(self.message_id)
