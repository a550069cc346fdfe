"""One message of the conversation: rendered Markdown, its sources, and its actions."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCursor, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
)

from desktop_rag.core.chats.history import Message, SavedSource, sentences_from
from desktop_rag.core.rag.answers import PartialAttribution, SentenceSupport
from desktop_rag.ui.markdown_text import (
    UNSUPPORTED_SCHEME,
    UNSUPPORTED_TIP,
    mark_sentences,
    snippet,
    source_label,
    source_link,
)

_SELECTABLE = (
    Qt.TextInteractionFlag.TextSelectableByMouse
    | Qt.TextInteractionFlag.TextSelectableByKeyboard
    | Qt.TextInteractionFlag.LinksAccessibleByMouse
    | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
)


class MessageWidget(QFrame):
    source_clicked = Signal(int, int, int)  # message id, source number, sentence (-1: none)
    copy_requested = Signal(int)
    regenerate_requested = Signal(int)
    edit_requested = Signal(int)

    def __init__(self, message: Message, parent=None):
        super().__init__(parent)
        self.message_id = message.id
        self.role = message.role
        self._text = ""
        self._sources: tuple[SavedSource, ...] = ()
        self._sentences: tuple[SentenceSupport, ...] = ()
        self._partial: PartialAttribution | None = None  # while streaming
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
        self.body.linkHovered.connect(self._on_body_linkHovered)

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

    @property
    def sentences(self) -> tuple[SentenceSupport, ...]:
        """Each sentence's verdict (empty while streaming, and for answers saved before)."""
        return self._sentences

    def unsupported_count(self) -> int:
        return sum(s.unsupported for s in self._sentences)

    def show_message(self, message: Message) -> None:
        self._sources = message.sources
        self._sentences = sentences_from(message.meta) if message.role == "assistant" else ()
        self._partial = None
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
        if meta.get("loop_cut"):
            note += " · cut where the model began repeating itself"
        if meta.get("interrupted"):
            note += f" · cut short: {meta['interrupted']}"
        unsupported = self.unsupported_count()
        if unsupported:
            note += f" · {unsupported} sentence{'s' if unsupported > 1 else ''} not in the sources"
        self._note.setText(note)
        self._note.setToolTip(note)

    def set_partial_attribution(self, partial: PartialAttribution) -> None:
        """While streaming: citations for the sentences complete so far."""
        self._partial = partial
        self.set_text(self._text)

    def set_text(self, text: str) -> None:
        self._text = text
        known = {s.number for s in self._sources}
        partial = self._partial
        if self.role != "assistant":
            shown = text
        elif partial is not None and len(text) >= partial.consumed:
            # Streaming: citations appear as sentences end. Unsupported marks wait for the
            # final check, which also compares meanings and may still find support.
            shown = mark_sentences(
                partial.text + text[partial.consumed :], partial.sentences, known, flag=False
            )
        else:
            shown = mark_sentences(text, self._sentences, known)
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
        link = source_link(href)
        if link is not None:
            number, sentence = link
            self.source_clicked.emit(self.message_id, number, -1 if sentence is None else sentence)
        elif href.startswith(UNSUPPORTED_SCHEME + ":"):
            QToolTip.showText(QCursor.pos(), UNSUPPORTED_TIP, self.body)

    @Slot(str)
    def _on_body_linkHovered(self, href: str) -> None:
        if href.startswith(UNSUPPORTED_SCHEME + ":"):
            QToolTip.showText(QCursor.pos(), UNSUPPORTED_TIP, self.body)

    @Slot()
    def _on_copy_clicked(self) -> None:
        self.copy_requested.emit(self.message_id)

    @Slot()
    def _on_regenerate_clicked(self) -> None:
        self.regenerate_requested.emit(self.message_id)

    @Slot()
    def _on_edit_clicked(self) -> None:
        self.edit_requested.emit(self.message_id)
