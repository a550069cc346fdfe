"""Files that could not be indexed, each with the reason in words."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QListView, QPushButton, QVBoxLayout, QWidget

from desktop_rag.ui.failed_files_model import FailedFileRole, FailedFilesModel
from desktop_rag.ui.panel_parts import bold_label, empty_state

EMPTY_TEXT = "No problems: every file found so far was read."


class FailedFilesPanel(QWidget):
    open_requested = Signal(str)
    retry_requested = Signal()

    def __init__(self, model: FailedFilesModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.title = bold_label()
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip(
            "Read these files again (after closing the program that locked one, fixing a "
            "permission, or when the computer is less busy)"
        )
        self.view = QListView()
        self.view.setObjectName("failedFiles")
        self.view.setModel(model)
        self.view.setWordWrap(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setAccessibleName("Files that could not be indexed")
        self.empty, self._stack = empty_state(self.view, EMPTY_TEXT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.retry_button)
        layout.addLayout(header)
        layout.addLayout(self._stack, 1)
        self.view.activated.connect(self._on_view_activated)
        self.retry_button.clicked.connect(self.retry_requested)
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
        self.retry_button.setVisible(bool(n))
