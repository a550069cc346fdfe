"""Files that failed are read again on Retry (or Re-index), even when they did not change."""

from __future__ import annotations

from desktop_rag.services.folder_status import FolderState
from tests.ui.test_main_flow import _notes


def test_retry_reads_a_file_that_was_locked(qtbot, window, fake_kb, tmp_path):
    fake_kb.locked.add("budget.txt")
    notes = _notes(tmp_path)
    budget = str((notes / "budget.txt").resolve())
    panel = window.failed_panel
    assert not panel.retry_button.isVisibleTo(panel)
    window.add_folder(str(notes))

    def problems() -> set[str]:
        return {r.path for r in fake_kb.records.values() if r.status == "error"}

    qtbot.waitUntil(lambda: budget in problems() and panel.model.rowCount() == 2, timeout=30000)
    assert panel.retry_button.isVisibleTo(panel)
    status = window.services.folders.status(str(notes.resolve()))
    qtbot.waitUntil(lambda: status.state is FolderState.WATCHING, timeout=30000)

    window.services.folders.reindex(str(notes.resolve()))  # retries too: still locked
    qtbot.waitUntil(
        lambda: window.services.folders.status(str(notes.resolve())).state is FolderState.WATCHING,
        timeout=30000,
    )
    assert budget in problems()

    fake_kb.locked.clear()  # the other program let go; the file itself did not change
    panel.retry_button.click()
    qtbot.waitUntil(lambda: budget in fake_kb.texts, timeout=30000)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=30000)  # only broken.txt left
