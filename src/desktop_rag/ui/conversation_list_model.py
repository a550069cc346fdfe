"""Saved conversations for the side list; titles are editable in place (F2)."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from desktop_rag.core.chats.history import Conversation

_Index = QModelIndex | QPersistentModelIndex


class ConversationRole(enum.IntEnum):
    ID = Qt.ItemDataRole.UserRole + 1
    TITLE = enum.auto()
    UPDATED = enum.auto()
    MESSAGES = enum.auto()


class ConversationListModel(QAbstractListModel):
    renamed = Signal(int, str)  # conversation id, new title (edited in the view)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Conversation] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, bytes]:
        names = super().roleNames()
        names.update({int(role): role.name.lower().encode() for role in ConversationRole})
        return names

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid():
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        conv = self._rows[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole | Qt.ItemDataRole.EditRole | ConversationRole.TITLE:
                return conv.title
            case Qt.ItemDataRole.ToolTipRole:
                n = conv.message_count
                return f"{conv.title}\n{n} message" + ("" if n == 1 else "s")
            case ConversationRole.ID:
                return conv.id
            case ConversationRole.UPDATED:
                return conv.updated
            case ConversationRole.MESSAGES:
                return conv.message_count
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        title = " ".join(str(value).split())
        conv = self._rows[index.row()]
        if not title or title == conv.title:
            return False
        self._rows[index.row()] = Conversation(
            conv.id, title, conv.created, conv.updated, conv.message_count
        )
        self.dataChanged.emit(
            index,
            index,
            [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, ConversationRole.TITLE],
        )
        self.renamed.emit(conv.id, title)
        return True

    def set_conversations(self, conversations: list[Conversation]) -> None:
        self.beginResetModel()
        self._rows = list(conversations)
        self.endResetModel()

    def row_of(self, conversation_id: int) -> int:
        for row, conv in enumerate(self._rows):
            if conv.id == conversation_id:
                return row
        return -1

    def conversation(self, row: int) -> Conversation:
        return self._rows[row]
