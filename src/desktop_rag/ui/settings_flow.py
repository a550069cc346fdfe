"""Open Settings, save what changed, and apply it (offering a re-index where needed)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QMessageBox

from desktop_rag.core import settings as settings_mod
from desktop_rag.ui.settings_dialog import SettingsDialog

REINDEX_TEXT = (
    "The embedding model changed. The index holds vectors of the old model, which cannot be "
    "searched with the new one, so every folder must be indexed again.\n\n"
    "Re-index all folders now? (Until then, searches report the mismatch.)"
)
CHUNKING_TEXT = (
    "The chunk size changed. Files indexed from now on use it; re-index all folders now so "
    "that every file does?"
)


def run_settings_dialog(window) -> bool:
    """Returns True when settings were saved."""
    paths = window.services.paths
    dialog = SettingsDialog(
        window.settings, window.services.models, window, secrets_file=paths.secrets_file
    )
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    new = dialog.settings()
    rebuild = False
    if dialog.embedder_changed():
        rebuild = _ask(window, REINDEX_TEXT)
    elif dialog.chunking_changed():
        rebuild = _ask(window, CHUNKING_TEXT)
    settings_mod.save(paths.settings_file, new)
    key = dialog.server_box.key_change()
    if key is not None and new.server_url:
        # Kept off the UI thread (a keyring may wait for its unlock prompt); the chat model
        # is reconnected once the key is kept.
        window.services.store_server_key(new.server_url, key)
    window.apply_settings(new, rebuild=rebuild)
    return True


def _ask(window, text: str) -> bool:
    answer = QMessageBox.question(window, "Re-index folders?", text)
    return answer == QMessageBox.StandardButton.Yes
