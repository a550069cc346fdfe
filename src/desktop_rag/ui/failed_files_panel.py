"""Files that could not be indexed, each with the reason in words."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import QListView, QVBoxLayout, QWidget

from desktop_rag.ui.failed_files_model import FailedFileRole, FailedFilesModel
from desktop_rag.ui.panel_parts import bold_label, empty_state

EMPTY_TEXT = "No problems: every file found so far was read."


class FailedFilesPanel(QWidget):
    open_requested = Signal(str)

    def __init__(self, model: FailedFilesModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.title = bold_label()
        self.view = QListView()
        self.view.setObjectName("failedFiles")
        self.view.setModel(model)
        self.view.setWordWrap(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setAccessibleName("Files that could not be indexed")
        self.empty, self._stack = empty_state(self.view, EMPTY_TEXT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.addWidget(self.title)
        layout.addLayout(self._stack, 1)
        self.view.activated.connect(self._on_view_activated)
        model.modelReset.connect(self._on_model_changed)
        self._on_model_changed()

    @Slot(QModelIndex)
    def _on_view_activated(self, index: QModelIndex) -> None:
        self.open_requested.emit(index.data(FailedFileRole.PATH))

    @Slot()
    def _on_model_changed(self) -> None:
        n = self.model.rowCount()
        self.title.setText(f"Problems ({n})" if n else "Problems")
        self._stack.setCurrentWidget(self.view if n else self.empty)
