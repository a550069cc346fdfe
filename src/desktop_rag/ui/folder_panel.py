"""Left panel: the watched folders with their state, and the actions on them."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.services.folder_status import FolderState, FolderStatus
from desktop_rag.ui.folder_list_model import FolderListModel, FolderRole
from desktop_rag.ui.panel_parts import bold_label, empty_state

EMPTY_TEXT = "No folders yet.\nClick “Add folder…” or drag a folder onto the window."


class FolderDelegate(QStyledItemDelegate):
    """Name, a state line, and a progress bar while the folder is being indexed."""

    PAD = 6

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        line = option.fontMetrics.height()
        extra = 10 if index.data(FolderRole.FRACTION) is not None else 0
        return QSize(200, 2 * line + 3 * self.PAD + extra)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        style = option.widget.style() if option.widget else QApplication.style()
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Normal
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        status: FolderStatus = index.data(FolderRole.STATUS)
        rect = option.rect.adjusted(self.PAD + 2, self.PAD, -self.PAD, -self.PAD)
        line = option.fontMetrics.height()

        painter.save()
        font = option.font
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(option.palette.color(group, text_role))
        name_rect = QRect(rect.left(), rect.top(), rect.width(), line)
        name = option.fontMetrics.elidedText(
            index.data(Qt.ItemDataRole.DisplayRole), Qt.TextElideMode.ElideMiddle, rect.width()
        )
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name
        )
        font.setBold(False)
        painter.setFont(font)
        if not selected and status.state in (FolderState.PAUSED, FolderState.UNAVAILABLE):
            painter.setPen(option.palette.color(group, QPalette.ColorRole.PlaceholderText))
        detail_rect = QRect(rect.left(), rect.top() + line + self.PAD // 2, rect.width(), line)
        detail = option.fontMetrics.elidedText(
            index.data(FolderRole.DETAIL), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(
            detail_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, detail
        )
        painter.restore()

        fraction = index.data(FolderRole.FRACTION)
        if fraction is not None:
            bar = QStyleOptionProgressBar()
            bar.rect = QRect(rect.left(), detail_rect.bottom() + 4, rect.width(), 8)
            bar.minimum, bar.maximum = 0, 1000
            bar.progress = int(fraction * 1000)
            bar.textVisible = False
            bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
            bar.palette = option.palette
            style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class FolderPanel(QWidget):
    add_requested = Signal()
    remove_requested = Signal(str)
    pause_requested = Signal(str)
    resume_requested = Signal(str)
    reindex_requested = Signal(str)

    def __init__(self, model: FolderListModel, parent=None):
        super().__init__(parent)
        self.model = model
        title = bold_label("Folders")
        self.add_button = QPushButton("Add folder…")
        self.add_button.setToolTip("Choose a folder to index and watch (Ctrl+O)")
        header = QHBoxLayout()
        header.addWidget(title, 1)
        header.addWidget(self.add_button)

        self.view = QListView()
        self.view.setObjectName("folderList")
        self.view.setModel(model)
        self.view.setItemDelegate(FolderDelegate(self.view))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setAccessibleName("Watched folders")
        self.view.setUniformItemSizes(False)
        self.empty, self._stack = empty_state(self.view, EMPTY_TEXT)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(header)
        layout.addLayout(self._stack, 1)

        self.add_button.clicked.connect(self.add_requested)
        self.view.customContextMenuRequested.connect(self._on_view_customContextMenuRequested)
        model.rowsInserted.connect(self._on_model_changed)
        model.rowsRemoved.connect(self._on_model_changed)
        model.modelReset.connect(self._on_model_changed)
        self._on_model_changed()

    def menu_for(self, status: FolderStatus) -> QMenu:
        """The context menu of one folder (built separately so tests can inspect it)."""
        menu = QMenu(self)
        path = status.path
        if status.state is FolderState.PAUSED:
            menu.addAction("Resume watching").setData(("resume", path))
        else:
            menu.addAction("Pause watching").setData(("pause", path))
        reindex = menu.addAction("Re-index now")
        reindex.setData(("reindex", path))
        reindex.setEnabled(status.state is not FolderState.UNAVAILABLE)
        menu.addSeparator()
        menu.addAction("Remove from index").setData(("remove", path))
        return menu

    def trigger(self, action: str, path: str) -> None:
        signal = {
            "pause": self.pause_requested,
            "resume": self.resume_requested,
            "reindex": self.reindex_requested,
            "remove": self.remove_requested,
        }[action]
        signal.emit(path)

    @Slot(QPoint)
    def _on_view_customContextMenuRequested(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():  # the keyboard's menu key: act on the current folder
            index = self.view.currentIndex()
            pos = self.view.visualRect(index).center()
        if not index.isValid():
            return
        menu = self.menu_for(index.data(FolderRole.STATUS))
        chosen = menu.exec(self.view.viewport().mapToGlobal(pos))
        if chosen is not None and chosen.data():
            self.trigger(*chosen.data())

    @Slot()
    def _on_model_changed(self) -> None:
        self._stack.setCurrentWidget(self.view if self.model.rowCount() else self.empty)
