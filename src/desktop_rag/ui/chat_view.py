"""The conversation: a scrolling column of messages that follows a streaming answer."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop_rag.core.chats.history import Message
from desktop_rag.ui.message_widget import MessageWidget

EMPTY_TEXT = (
    "<h3>Ask about your files</h3>"
    "<p>Type a question below and press Enter. Answers are written by the model on this "
    "computer from your indexed folders, and cite the files they come from.</p>"
    "<p>Shift+Enter starts a new line, Esc stops an answer, Ctrl+N starts a new chat.</p>"
)


class ChatView(QScrollArea):
    source_clicked = Signal(int, int, int)  # message id, source number, sentence (-1: none)
    copy_requested = Signal(int)
    regenerate_requested = Signal(int)
    edit_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content = QWidget()
        self._content.setObjectName("chatContent")
        self._layout = QVBoxLayout(self._content)
        self._layout.setContentsMargins(16, 12, 16, 12)
        self._layout.setSpacing(10)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setObjectName("chatEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self.empty)
        self._layout.addStretch(1)
        self.setWidget(self._content)
        self._widgets: dict[int, MessageWidget] = {}
        self._follow = True
        self.verticalScrollBar().valueChanged.connect(self._on_scrollbar_valueChanged)
        self.verticalScrollBar().rangeChanged.connect(self._on_scrollbar_rangeChanged)

    # Content.

    def clear(self) -> None:
        for widget in self._widgets.values():
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self._widgets.clear()
        self.empty.show()
        self._follow = True

    def set_messages(self, messages: list[Message]) -> None:
        self.clear()
        for message in messages:
            self.add_message(message)
        self.refresh_actions()
        QTimer.singleShot(0, self, self.scroll_to_bottom)  # dropped if the view is gone

    def add_message(self, message: Message) -> MessageWidget:
        widget = MessageWidget(message)
        widget.source_clicked.connect(self.source_clicked)
        widget.copy_requested.connect(self.copy_requested)
        widget.regenerate_requested.connect(self.regenerate_requested)
        widget.edit_requested.connect(self.edit_requested)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self._widgets[message.id] = widget
        self.empty.hide()
        self._follow = True
        self.refresh_actions()
        return widget

    def update_text(self, message_id: int, text: str) -> None:
        widget = self._widgets.get(message_id)
        if widget is not None:
            widget.set_text(text)

    def update_attribution(self, message_id: int, partial: object) -> None:
        widget = self._widgets.get(message_id)
        if widget is not None:
            widget.set_partial_attribution(partial)

    def finish_message(self, message: Message) -> None:
        widget = self._widgets.get(message.id)
        if widget is not None:
            widget.show_message(message)
        self.refresh_actions()

    def widget_for(self, message_id: int) -> MessageWidget | None:
        return self._widgets.get(message_id)

    def widgets(self) -> list[MessageWidget]:
        return list(self._widgets.values())

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.refresh_actions()

    def refresh_actions(self) -> None:
        """Regenerate on the last answer, edit on the last question, copy on every answer."""
        busy = getattr(self, "_busy", False)
        widgets = list(self._widgets.values())
        last_user = next((w for w in reversed(widgets) if w.role == "user"), None)
        last_answer = widgets[-1] if widgets and widgets[-1].role == "assistant" else None
        for widget in widgets:
            widget.set_actions(
                copy=(widget.role == "assistant" and bool(widget.text)) or widget.role == "user",
                regenerate=widget is last_answer and not busy,
                edit=widget is last_user and not busy,
            )

    # Following the newest text.

    def scroll_to_bottom(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    @Slot(int)
    def _on_scrollbar_valueChanged(self, value: int) -> None:
        # Reading further up stops the view from jumping to new tokens; coming back resumes.
        self._follow = value >= self.verticalScrollBar().maximum() - 24

    @Slot(int, int)
    def _on_scrollbar_rangeChanged(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
