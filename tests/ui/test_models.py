"""The list models pass pytest-qt's model tester and say the right things."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_rag.core.chats.history import Conversation
from desktop_rag.core.records import SkippedFile
from desktop_rag.services.folder_status import (
    FolderState,
    FolderStatus,
    activity,
    describe,
    format_eta,
)
from desktop_rag.ui.conversation_list_model import ConversationListModel, ConversationRole
from desktop_rag.ui.failed_files_model import FailedFileRole, FailedFilesModel
from desktop_rag.ui.folder_list_model import FolderListModel, FolderRole


def test_folder_model(qtmodeltester):
    model = FolderListModel()
    model.upsert(FolderStatus("/home/u/notes", FolderState.WATCHING, files=12))
    model.upsert(FolderStatus("/home/u/papers", FolderState.INDEXING, done=5, total=20, eta_s=75))
    qtmodeltester.check(model)
    model.upsert(FolderStatus("/home/u/notes", FolderState.PAUSED, files=12, errors=2))
    model.remove("/home/u/papers")
    qtmodeltester.check(model)
    index = model.index(0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "notes"
    assert index.data(FolderRole.DETAIL) == "Paused · 12 files · 2 problems"
    assert index.data(FolderRole.FRACTION) is None
    assert Qt.ItemDataRole.UserRole + 1 == FolderRole.PATH


def test_folder_state_lines():
    indexing = FolderStatus("/x", FolderState.INDEXING, done=5, total=20, eta_s=75)
    assert describe(indexing) == "Indexing 5/20 · 1:15 left"
    assert indexing.fraction == 0.25
    assert describe(FolderStatus("/x", FolderState.INDEXING)) == "Scanning…"
    assert describe(FolderStatus("/x", FolderState.UNAVAILABLE)).startswith("Unavailable")
    assert describe(FolderStatus("/x", files=1, errors=1)) == "Watching · 1 file · 1 problem"
    reading = FolderStatus("/x", FolderState.INDEXING, phase="extracting", current="/x/a/r.pdf")
    assert activity(reading) == "Reading r.pdf"
    assert activity(FolderStatus("/x", current="/x/a.md")) == ""  # watching: nothing under way
    assert format_eta(None) == "" and format_eta(9) == "9 s left"
    assert format_eta(3 * 3600 + 120) == "3 h 02 min left"


def test_conversation_model_renames_in_place(qtmodeltester, qtbot):
    model = ConversationListModel()
    model.set_conversations([Conversation(1, "First", 0, 0, 2), Conversation(2, "Second", 0, 0)])
    qtmodeltester.check(model)
    with qtbot.waitSignal(model.renamed) as renamed:
        assert model.setData(model.index(1), "  Budget   questions ")
    assert renamed.args == [2, "Budget questions"]
    assert model.index(1).data(ConversationRole.TITLE) == "Budget questions"
    assert not model.setData(model.index(1), "   ")
    assert model.index(0).data(ConversationRole.MESSAGES) == 2


def test_failed_files_model(qtmodeltester):
    model = FailedFilesModel()
    model.set_files(
        [
            SkippedFile("/d/b.pdf", "no text layer (scanned?)"),
            SkippedFile("/d/a.docx", "the file is damaged"),
        ]
    )
    qtmodeltester.check(model)
    assert model.index(0).data() == "a.docx: the file is damaged"
    assert model.index(1).data(FailedFileRole.REASON) == "no text layer (scanned?)"
