"""The centre of the window: the conversation, the question box and Send/Stop."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_rag.ui.chat_input import ChatInput
from desktop_rag.ui.chat_view import ChatView
from desktop_rag.ui.scope_button import ScopeButton


class ChatPanel(QWidget):
    send_requested = Signal(str)
    edit_resend_requested = Signal(str)
    stop_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = ChatView()
        self.input = ChatInput()
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        self.send_button.setToolTip("Send the question (Enter)")
        self.editing_label = QLabel("Editing your last question: Enter resends it, Esc cancels.")
        self.editing_label.hide()
        self.scope_button = ScopeButton()
        self._answering = False
        self._editing = False

        row = QHBoxLayout()
        row.setContentsMargins(12, 0, 12, 12)
        row.addWidget(self.input, 1)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.view, 1)
        edit_row = QHBoxLayout()
        edit_row.setContentsMargins(12, 0, 12, 0)
        edit_row.addWidget(self.scope_button)
        edit_row.addWidget(self.editing_label)
        edit_row.addStretch(1)
        layout.addLayout(edit_row)
        layout.addLayout(row)
        self.setTabOrder(self.input, self.send_button)
        self.setTabOrder(self.send_button, self.scope_button)

        self.input.submitted.connect(self._on_input_submitted)
        self.send_button.clicked.connect(self._on_send_button_clicked)

    @property
    def answering(self) -> bool:
        return self._answering

    def set_answering(self, answering: bool) -> None:
        self._answering = answering
        self.send_button.setText("Stop" if answering else "Send")
        self.send_button.setToolTip("Stop the answer (Esc)" if answering else "Send (Enter)")
        self.view.set_busy(answering)

    def begin_edit(self, text: str) -> None:
        self._editing = True
        self.input.setPlainText(text)
        self.editing_label.show()
        self.input.setFocus()
        cursor = self.input.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.input.setTextCursor(cursor)

    def cancel_edit(self) -> bool:
        if not self._editing:
            return False
        self._editing = False
        self.editing_label.hide()
        self.input.clear()
        return True

    @Slot(str)
    def _on_input_submitted(self, text: str) -> None:
        if self._answering:
            return  # Enter never interrupts; Stop and Esc do
        self.input.clear()
        if self._editing:
            self._editing = False
            self.editing_label.hide()
            self.edit_resend_requested.emit(text)
        else:
            self.send_requested.emit(text)

    @Slot()
    def _on_send_button_clicked(self) -> None:
        if self._answering:
            self.stop_requested.emit()
            return
        text = self.input.toPlainText().strip()
        if text:
            self._on_input_submitted(text)
