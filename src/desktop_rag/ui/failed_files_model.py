"""Files the index skipped, and why."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from desktop_rag.core.path_keys import display_path
from desktop_rag.core.records import SkippedFile

_Index = QModelIndex | QPersistentModelIndex


class FailedFileRole(enum.IntEnum):
    PATH = Qt.ItemDataRole.UserRole + 1
    REASON = enum.auto()


class FailedFilesModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[SkippedFile] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, bytes]:
        names = super().roleNames()
        names.update({int(role): role.name.lower().encode() for role in FailedFileRole})
        return names

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        skipped = self._rows[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return f"{Path(display_path(skipped.path)).name}: {skipped.reason}"
            case Qt.ItemDataRole.ToolTipRole:
                return f"{display_path(skipped.path)}\n{skipped.reason}"
            case FailedFileRole.PATH:
                return skipped.path
            case FailedFileRole.REASON:
                return skipped.reason
        return None

    def set_files(self, files: list[SkippedFile]) -> None:
        files = sorted(files, key=lambda f: f.path)
        if files == self._rows:
            return
        self.beginResetModel()
        self._rows = files
        self.endResetModel()

    def files(self) -> list[SkippedFile]:
        return list(self._rows)
