"""Saved conversations: open, rename (F2 or the menu), delete, start a new one."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.ui.conversation_list_model import ConversationListModel, ConversationRole
from desktop_rag.ui.panel_parts import bold_label, empty_state

EMPTY_TEXT = "No saved chats yet.\nYour conversations are kept here, on this computer."


class ConversationPanel(QWidget):
    open_requested = Signal(int)
    delete_requested = Signal(int)
    new_requested = Signal()

    def __init__(self, model: ConversationListModel, parent=None):
        super().__init__(parent)
        self.model = model
        title = bold_label("Chats")
        self.new_button = QPushButton("New chat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        header = QHBoxLayout()
        header.addWidget(title, 1)
        header.addWidget(self.new_button)

        self.view = QListView()
        self.view.setObjectName("conversationList")
        self.view.setModel(model)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setAccessibleName("Saved chats")
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.empty, self._stack = empty_state(self.view, EMPTY_TEXT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(header)
        layout.addLayout(self._stack, 1)

        delete = QShortcut(QKeySequence.StandardKey.Delete, self.view)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._on_delete_shortcut_activated)
        self.new_button.clicked.connect(self.new_requested)
        self.view.activated.connect(self._on_view_activated)
        self.view.clicked.connect(self._on_view_activated)
        self.view.customContextMenuRequested.connect(self._on_view_customContextMenuRequested)
        model.modelReset.connect(self._on_model_changed)
        self._on_model_changed()

    def select(self, conversation_id: int | None) -> None:
        row = -1 if conversation_id is None else self.model.row_of(conversation_id)
        if row < 0:
            self.view.clearSelection()
            return
        self.view.selectionModel().setCurrentIndex(
            self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
        )

    def rename(self, conversation_id: int) -> None:
        row = self.model.row_of(conversation_id)
        if row >= 0:
            self.view.edit(self.model.index(row, 0))

    @Slot(QModelIndex)
    def _on_view_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(index.data(ConversationRole.ID))

    @Slot()
    def _on_delete_shortcut_activated(self) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self.delete_requested.emit(index.data(ConversationRole.ID))

    @Slot(QPoint)
    def _on_view_customContextMenuRequested(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            index = self.view.currentIndex()
            pos = self.view.visualRect(index).center()
        if not index.isValid():
            return
        menu = QMenu(self)
        rename = menu.addAction("Rename")
        delete = menu.addAction("Delete")
        chosen = menu.exec(self.view.viewport().mapToGlobal(pos))
        if chosen is rename:
            self.view.edit(index)
        elif chosen is delete:
            self.delete_requested.emit(index.data(ConversationRole.ID))

    @Slot()
    def _on_model_changed(self) -> None:
        self._stack.setCurrentWidget(self.view if self.model.rowCount() else self.empty)
