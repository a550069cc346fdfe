"""The main window: folders on the left, the conversation in the centre, sources on the right.

Widgets only: every action goes to a service, every update comes back as a signal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QStandardPaths, Qt, QUrl, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from desktop_rag.core.chats.history import Message
from desktop_rag.core.paths import resources_dir
from desktop_rag.core.settings import Settings
from desktop_rag.services.app_services import AppServices
from desktop_rag.services.folder_status import FolderStatus
from desktop_rag.ui.chat_panel import ChatPanel
from desktop_rag.ui.conversation_list_model import ConversationListModel
from desktop_rag.ui.conversation_panel import ConversationPanel
from desktop_rag.ui.failed_files_model import FailedFilesModel
from desktop_rag.ui.failed_files_panel import FailedFilesPanel
from desktop_rag.ui.folder_list_model import FolderListModel
from desktop_rag.ui.folder_panel import FolderPanel
from desktop_rag.ui.source_panel import SourcePanel
from desktop_rag.ui.status_bar import StatusBar
from desktop_rag.ui.welcome import WelcomePage

if TYPE_CHECKING:  # imports LanceDB: not at start-up
    from desktop_rag.core.knowledge_base import IndexStatus

Opener = Callable[[str, int], None]  # path, page (0: none)


def open_externally(path: str, page: int = 0) -> None:
    """Open a file in the system's viewer; PDFs at the cited page where the viewer allows."""
    url = QUrl.fromLocalFile(path)
    if page and path.lower().endswith(".pdf"):
        url.setFragment(f"page={page}")
    QDesktopServices.openUrl(url)


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "desktop-rag.svg"))


class MainWindow(QMainWindow):
    def __init__(
        self,
        services: AppServices,
        settings: Settings,
        *,
        opener: Opener = open_externally,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.services = services
        self.settings = settings
        self.opener = opener
        self.tray = None
        self._quitting = False
        self.setWindowTitle("Desktop RAG")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.folder_model = FolderListModel(self)
        self.conversation_model = ConversationListModel(self)
        self.failed_model = FailedFilesModel(self)
        self.folder_panel = FolderPanel(self.folder_model)
        self.conversation_panel = ConversationPanel(self.conversation_model)
        self.failed_panel = FailedFilesPanel(self.failed_model)
        self.chat_panel = ChatPanel()
        self.welcome = WelcomePage()
        self.source_panel = SourcePanel()
        self.status = StatusBar()
        self.setStatusBar(self.status)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.folder_panel)
        left.addWidget(self.conversation_panel)
        left.addWidget(self.failed_panel)
        left.setSizes([320, 320, 140])
        self.centre = QStackedWidget()
        self.centre.addWidget(self.welcome)
        self.centre.addWidget(self.chat_panel)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.centre)
        self.splitter.addWidget(self.source_panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([290, 690, 300])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.source_panel.hide()

        self._build_menus()
        self._connect()
        self._refresh_conversations()
        self._update_centre()
        self.setTabOrder(self.folder_panel.view, self.conversation_panel.view)
        self.setTabOrder(self.conversation_panel.view, self.chat_panel.input)

    # Construction.

    def _action(self, text: str, shortcut, slot, menu) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.add_folder_action = self._action(
            "&Add folder…", QKeySequence.StandardKey.Open, self._on_add_folder_triggered, file_menu
        )
        self.settings_action = self._action(
            "&Settings…", "Ctrl+,", self._on_settings_triggered, file_menu
        )
        file_menu.addSeparator()
        self._action("&Quit", QKeySequence.StandardKey.Quit, self._on_quit_triggered, file_menu)
        chat_menu = bar.addMenu("&Chat")
        self.new_chat_action = self._action(
            "&New chat", "Ctrl+N", self._on_new_chat_triggered, chat_menu
        )
        self.stop_action = self._action("&Stop answer", "Esc", self._on_stop_triggered, chat_menu)
        self.regenerate_action = self._action(
            "&Regenerate answer", "Ctrl+R", self._on_regenerate_triggered, chat_menu
        )
        self.edit_action = self._action(
            "&Edit last question", "Ctrl+E", self._on_edit_triggered, chat_menu
        )
        self.copy_action = self._action(
            "&Copy last answer", "Ctrl+Shift+C", self._on_copy_last_triggered, chat_menu
        )
        self.export_action = self._action(
            "E&xport chat as Markdown…", "Ctrl+Shift+S", self._on_export_triggered, chat_menu
        )
        self._action("Focus the &question box", "Ctrl+L", self._on_focus_input_triggered, chat_menu)
        self._action("Re&name chat", "F2", self._on_rename_triggered, chat_menu)

    def _connect(self) -> None:
        s = self.services
        self.folder_panel.add_requested.connect(self._on_add_folder_triggered)
        self.folder_panel.remove_requested.connect(self._on_folder_panel_remove_requested)
        self.folder_panel.pause_requested.connect(s.folders.pause)
        self.folder_panel.resume_requested.connect(s.folders.resume)
        self.folder_panel.reindex_requested.connect(s.folders.reindex)
        self.welcome.add_requested.connect(self._on_add_folder_triggered)
        self.welcome.sample_requested.connect(self._on_welcome_sample_requested)
        self.conversation_panel.new_requested.connect(self._on_new_chat_triggered)
        self.conversation_panel.open_requested.connect(s.conversations.open)
        self.conversation_panel.delete_requested.connect(self._on_conversation_delete_requested)
        self.conversation_model.renamed.connect(s.conversations.rename)
        self.failed_panel.open_requested.connect(self._on_failed_panel_open_requested)
        self.failed_panel.retry_requested.connect(s.folders.retry_failed)
        self.chat_panel.send_requested.connect(self._on_chat_panel_send_requested)
        self.chat_panel.edit_resend_requested.connect(s.conversations.edit_and_resend)
        self.chat_panel.stop_requested.connect(s.conversations.stop)
        self.chat_panel.scope_button.watched = self._watched_folders
        self.chat_panel.scope_button.scope_chosen.connect(s.conversations.set_scope)
        s.conversations.scope_changed.connect(self.chat_panel.scope_button.show_scope)
        view = self.chat_panel.view
        view.source_clicked.connect(self._on_chat_view_source_clicked)
        view.copy_requested.connect(self._on_chat_view_copy_requested)
        view.regenerate_requested.connect(self._on_regenerate_triggered)
        view.edit_requested.connect(self._on_edit_triggered)
        self.source_panel.open_requested.connect(self._on_source_panel_open_requested)
        self.source_panel.closed.connect(self.source_panel.hide)

        s.folders.folder_changed.connect(self._on_folders_folder_changed)
        s.folders.folder_removed.connect(self._on_folders_folder_removed)
        s.folders.notice.connect(self._on_service_notice)
        s.index.status_changed.connect(self._on_index_status_changed)
        s.index.open_failed.connect(self.status.index_failed)
        s.index.work_changed.connect(self.status.work)
        s.chat.model_loading.connect(self.status.model_loading)
        s.chat.model_loaded.connect(self.status.model_loaded)
        s.chat.model_failed.connect(self.status.model_failed)
        s.chat.model_progress.connect(self.status.model_progress)
        self.status.cancel_load_requested.connect(s.chat.cancel_load)
        self.status.load_requested.connect(s.chat.load_model)
        c = s.conversations
        c.conversations_changed.connect(self._refresh_conversations)
        c.conversation_opened.connect(self._on_conversations_conversation_opened)
        c.message_added.connect(self._on_conversations_message_added)
        c.message_grew.connect(view.update_text)
        c.message_attributed.connect(view.update_attribution)
        c.message_finished.connect(self._on_conversations_message_finished)
        c.answering_started.connect(self._on_conversations_answering_started)
        c.answering_ended.connect(self._on_conversations_answering_ended)

    # Folders.

    def add_folder(self, path: str) -> str | None:
        added = self.services.folders.add(path)
        self._update_centre()
        return added

    @Slot()
    def _on_add_folder_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder to index")
        if folder:
            self.add_folder(folder)

    @Slot()
    def _on_welcome_sample_requested(self) -> None:
        self.add_folder(str(resources_dir() / "sample"))

    @Slot(str)
    def _on_folder_panel_remove_requested(self, folder: str) -> None:
        answer = QMessageBox.question(
            self,
            "Remove folder",
            f"Stop watching {folder} and remove its files from the index?\n"
            "The files themselves are not touched.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.services.folders.remove(folder)

    @Slot(object)
    def _on_folders_folder_changed(self, status: FolderStatus) -> None:
        self.folder_model.upsert(status)
        self._update_centre()

    @Slot(str)
    def _on_folders_folder_removed(self, folder: str) -> None:
        self.folder_model.remove(folder)

    @Slot(object)
    def _on_index_status_changed(self, status: IndexStatus) -> None:
        self.status.index_status(status)
        self.failed_model.set_files(list(status.errors))

    @Slot(str)
    def _on_service_notice(self, text: str) -> None:
        self.status.showMessage(text, 10000)

    @Slot(str)
    def _on_failed_panel_open_requested(self, path: str) -> None:
        self.opener(path, 0)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(Path(u.toLocalFile()).is_dir() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [u.toLocalFile() for u in event.mimeData().urls()]
        for folder in folders:
            if Path(folder).is_dir():
                self.add_folder(folder)
        event.acceptProposedAction()

    # Conversations.

    @Slot()
    def _refresh_conversations(self) -> None:
        self.conversation_model.set_conversations(self.services.conversations.conversations())
        self.conversation_panel.select(self.services.conversations.current_id)
        self._update_centre()

    def _update_centre(self) -> None:
        first_run = not self.folder_model.rowCount() and not self.conversation_model.rowCount()
        self.centre.setCurrentWidget(self.welcome if first_run else self.chat_panel)

    @Slot()
    def _on_new_chat_triggered(self) -> None:
        self.services.conversations.new_conversation()
        self.chat_panel.cancel_edit()
        self.chat_panel.input.setFocus()

    @Slot(int)
    def _on_conversation_delete_requested(self, conversation_id: int) -> None:
        self.services.conversations.delete(conversation_id)

    @Slot()
    def _on_rename_triggered(self) -> None:
        current = self.services.conversations.current_id
        if current:
            self.conversation_panel.rename(current)

    @Slot(int, object)
    def _on_conversations_conversation_opened(self, conversation_id: int, messages) -> None:
        self.chat_panel.view.set_messages(messages)
        self.conversation_panel.select(conversation_id or None)
        self.centre.setCurrentWidget(self.chat_panel)

    @Slot(str)
    def _on_chat_panel_send_requested(self, question: str) -> None:
        self.centre.setCurrentWidget(self.chat_panel)
        self.services.conversations.send(question)

    @Slot(object)
    def _on_conversations_message_added(self, message: Message) -> None:
        self.chat_panel.view.add_message(message)

    @Slot(object)
    def _on_conversations_message_finished(self, message: Message) -> None:
        self.chat_panel.view.finish_message(message)

    @Slot(int)
    def _on_conversations_answering_started(self, _message_id: int) -> None:
        self.chat_panel.set_answering(True)

    @Slot(int)
    def _on_conversations_answering_ended(self, _message_id: int) -> None:
        self.chat_panel.set_answering(False)

    @Slot()
    def _on_stop_triggered(self) -> None:
        if self.services.conversations.answering:
            self.services.conversations.stop()
        elif self.chat_panel.cancel_edit():
            pass
        elif self.source_panel.isVisible():
            self.source_panel.hide()

    @Slot()
    def _on_regenerate_triggered(self, *_args) -> None:
        if not self.services.conversations.answering:
            self.services.conversations.regenerate()

    @Slot()
    def _on_edit_triggered(self, *_args) -> None:
        question = self.services.conversations.last_question()
        if question is not None and not self.services.conversations.answering:
            self.chat_panel.begin_edit(question)

    @Slot()
    def _on_copy_last_triggered(self) -> None:
        answers = [w for w in self.chat_panel.view.widgets() if w.role == "assistant"]
        if answers:
            self._on_chat_view_copy_requested(answers[-1].message_id)

    @Slot()
    def _on_export_triggered(self) -> None:
        exported = self.services.conversations.export_markdown()
        if exported is None:
            self.status.showMessage("Nothing to export yet: ask a question first", 5000)
            return
        name, text = exported
        documents = QStandardPaths.StandardLocation.DocumentsLocation
        start = str(Path(QStandardPaths.writableLocation(documents)) / name)
        path, _ = QFileDialog.getSaveFileName(self, "Export chat", start, "Markdown (*.md)")
        if not path:
            return
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            QMessageBox.warning(self, "Export chat", f"Could not write {path}: {exc.strerror}")
            return
        self.status.showMessage(f"Exported to {path}", 5000)

    @Slot(int)
    def _on_chat_view_copy_requested(self, message_id: int) -> None:
        widget = self.chat_panel.view.widget_for(message_id)
        if widget is not None:
            QApplication.clipboard().setText(widget.text)
            self.status.showMessage("Copied to the clipboard", 3000)

    @Slot()
    def _on_focus_input_triggered(self) -> None:
        self.chat_panel.input.setFocus()

    # Sources.

    @Slot(int, int, int)
    def _on_chat_view_source_clicked(self, message_id: int, number: int, sentence: int) -> None:
        widget = self.chat_panel.view.widget_for(message_id)
        source = next((s for s in widget.sources if s.number == number), None) if widget else None
        if source is None:
            return
        # The span of the passage that supports the sentence whose citation was clicked.
        verdicts = widget.sentences
        span = None
        if 0 <= sentence < len(verdicts) and verdicts[sentence].sources[:1] == (number,):
            span = verdicts[sentence].span
        self.source_panel.show_source(source, span=span)
        self.source_panel.show()
        self.opener(source.path, source.page or 0)

    @Slot(str, int)
    def _on_source_panel_open_requested(self, path: str, page: int) -> None:
        self.opener(path, page)

    # Settings and lifetime.

    @Slot()
    def _on_settings_triggered(self) -> None:
        from desktop_rag.ui.settings_flow import run_settings_dialog

        run_settings_dialog(self)

    def apply_settings(self, new: Settings, *, rebuild: bool = False) -> None:
        self.settings = new
        self.services.apply_settings(new, rebuild=rebuild)
        if new.tray_icon and self.tray is None:
            from desktop_rag.ui.tray import install_tray

            install_tray(self)
        elif not new.tray_icon and self.tray is not None:
            self.tray.hide()
            self.tray = None

    @Slot()
    def _on_quit_triggered(self) -> None:
        self._quitting = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.tray is not None and self.tray.isVisible() and not self._quitting:
            self.hide()  # folders stay watched in the background; the tray menu quits
            event.ignore()
            return
        if self.tray is not None:
            self.tray.hide()
        # Gone from the screen at once; stopping the workers may wait for an embedding batch.
        self.hide()
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        self.services.shutdown()
        event.accept()

    def _watched_folders(self) -> list[str]:
        return sorted(status.path for status in self.services.folders.statuses())
