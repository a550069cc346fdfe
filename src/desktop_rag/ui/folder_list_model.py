"""The watched folders, as a list model the folder panel shows."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from desktop_rag.core.path_keys import display_path
from desktop_rag.services.folder_status import FolderStatus, activity, describe

_Index = QModelIndex | QPersistentModelIndex


class FolderRole(enum.IntEnum):
    PATH = Qt.ItemDataRole.UserRole + 1
    STATE = enum.auto()
    DETAIL = enum.auto()  # the state line under the name
    FRACTION = enum.auto()  # float 0..1 while indexing, else None
    ERRORS = enum.auto()
    STATUS = enum.auto()  # the whole FolderStatus


_CHANGED_ROLES = [
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    *list(FolderRole),
]


class FolderListModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[FolderStatus] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, bytes]:
        names = super().roleNames()
        names.update({int(role): role.name.lower().encode() for role in FolderRole})
        return names

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        status = self._rows[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                shown = display_path(status.path)
                return Path(shown).name or shown
            case Qt.ItemDataRole.ToolTipRole:
                now = activity(status)
                shown = display_path(status.path)
                return f"{shown}\n{describe(status)}" + (f"\n{now}" if now else "")
            case Qt.ItemDataRole.AccessibleTextRole:
                return f"{Path(display_path(status.path)).name}: {describe(status)}"
            case FolderRole.PATH:
                return status.path
            case FolderRole.STATE:
                return status.state.value
            case FolderRole.DETAIL:
                return describe(status)
            case FolderRole.FRACTION:
                return status.fraction
            case FolderRole.ERRORS:
                return status.errors
            case FolderRole.STATUS:
                return status
        return None

    # Updates from the folder service.

    def row_of(self, path: str) -> int:
        for row, status in enumerate(self._rows):
            if status.path == path:
                return row
        return -1

    def status(self, row: int) -> FolderStatus:
        return self._rows[row]

    def statuses(self) -> list[FolderStatus]:
        return list(self._rows)

    def upsert(self, status: FolderStatus) -> None:
        row = self.row_of(status.path)
        if row < 0:
            row = len(self._rows)
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.append(status)
            self.endInsertRows()
            return
        if self._rows[row] == status:
            return
        self._rows[row] = status
        index = self.index(row, 0)
        self.dataChanged.emit(index, index, _CHANGED_ROLES)

    def remove(self, path: str) -> None:
        row = self.row_of(path)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
