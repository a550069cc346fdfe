"""Settings dialog: values round trip, the embedder note, the GGUF preview, applying changes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QPushButton, QWidget

from desktop_rag.core import settings as settings_mod
from desktop_rag.core.paths import default_chat_model
from desktop_rag.core.settings import Settings
from desktop_rag.services.model_service import ModelService
from desktop_rag.ui import settings_flow
from desktop_rag.ui.settings_dialog import SettingsDialog


def test_values_round_trip(qtbot):
    original = Settings(n_gpu_layers=12, context_size=2048, top_k=4, extra={"future": 1})
    dialog = SettingsDialog(original)
    qtbot.addWidget(dialog)
    assert not dialog.auto_layers.isChecked() and dialog.gpu_layers.value() == 12
    dialog.auto_layers.setChecked(True)
    dialog.temperature.setValue(0.7)
    assert dialog.repeat_penalty.value() == original.repeat_penalty == 1.1
    dialog.repeat_penalty.setValue(1.25)
    dialog.chunk_tokens.setValue(300)
    dialog.top_k.setValue(8)
    result = dialog.settings()
    assert result.n_gpu_layers == "auto" and result.temperature == 0.7
    assert result.repeat_penalty == 1.25
    assert (result.chunk_tokens, result.top_k, result.context_size) == (300, 8, 2048)
    assert result.extra == {"future": 1}
    assert dialog.chunking_changed() and not dialog.embedder_changed()


def test_answer_length_threads_and_skipped_files_round_trip(qtbot):
    original = Settings(max_tokens=256, threads=None, ignore_patterns=("*.log",))
    dialog = SettingsDialog(original)
    qtbot.addWidget(dialog)
    assert dialog.threads.text() == "Automatic"
    assert dialog.ignore_edit.toPlainText() == "*.log"
    dialog.max_tokens.setValue(1024)
    dialog.threads.setValue(6)
    dialog.ignore_edit.setPlainText("*.log\n\n  drafts/  \n# a comment\n!keep.log\n")
    result = dialog.settings()
    assert (result.max_tokens, result.threads) == (1024, 6)
    assert result.ignore_patterns == ("*.log", "drafts/", "!keep.log")
    dialog.threads.setValue(0)
    assert dialog.settings().threads is None
    dialog.instructions.setPlainText("  Answer in French.\n")
    assert dialog.settings().instructions == "Answer in French."


def test_bad_chunking_disables_ok_and_says_why(qtbot):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.chunk_overlap.setValue(500)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    assert "chunk_overlap must be smaller" in dialog.problems.text()


def test_changing_the_embedder_explains_the_reindex(qtbot):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.embedder_edit.setText("/models/e5-small")
    assert dialog.embedder_changed()
    assert "indexed again" in dialog.embedder_note.text()


def test_applying_a_new_embedder_offers_and_runs_a_reindex(qtbot, window, monkeypatch):
    new = Settings(embedder="/models/other")
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: SettingsDialog.DialogCode.Accepted)
    monkeypatch.setattr(SettingsDialog, "settings", lambda self: new)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.services.index.status_changed, timeout=10000):
        assert settings_flow.run_settings_dialog(window)
    saved, problems = settings_mod.load(window.services.paths.settings_file)
    assert saved.embedder == "/models/other" and problems == []
    assert window.services.settings.embedder == "/models/other"


@pytest.mark.slow
def test_the_chat_model_preview_reads_the_gguf(qtbot):
    models = ModelService()
    try:
        dialog = SettingsDialog(Settings(n_gpu_layers=0), models)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: dialog.preview is not None, timeout=60000)
        assert dialog.preview.path == str(default_chat_model())
        assert dialog.preview.n_layers == 30
        assert dialog.preview.quantization == "Q4_1"
        assert "30 layers" in dialog.model_info.text()
        assert dialog.plan_label.text().startswith("Plan: 0 of 31 layers on the GPU")
        # Which model answers, and that a larger one answers better.
        advice = dialog.model_advice.text()
        assert advice.startswith("In use: ") and "built-in" in advice and "7B-13B" in advice
    finally:
        assert models.shutdown()


def test_rows_do_not_overlap_when_shown(qtbot):
    dialog = SettingsDialog(Settings(ignore_patterns=("*.log", "drafts/")))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    group = dialog.ignore_edit.parentWidget()
    boxes = [w.geometry() for w in group.findChildren(QWidget) if w.parentWidget() is group]
    overlapping = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.intersects(b)]
    assert overlapping == []


def test_chunk_size_says_what_the_embedding_model_reads(qtbot):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    note = dialog.chunk_note.text()
    assert "all-MiniLM-L6-v2 reads at most 256 tokens" in note and "Larger" not in note
    dialog.chunk_tokens.setValue(1000)
    assert dialog.chunk_note.text().startswith("Larger than the model reads")
    assert "cut at 214 tokens" in dialog.chunk_note.text()


def test_lora_adapter_and_scale_round_trip(qtbot, monkeypatch):
    original = Settings(lora_path="/ft/legal.gguf", lora_scale=0.5)
    dialog = SettingsDialog(original)
    qtbot.addWidget(dialog)
    assert dialog.lora_edit.text() == "/ft/legal.gguf" and dialog.lora_scale.value() == 0.5
    assert (dialog.settings().lora_path, dialog.settings().lora_scale) == ("/ft/legal.gguf", 0.5)
    monkeypatch.setattr(
        "desktop_rag.ui.settings_dialog.QFileDialog.getOpenFileName",
        lambda *a, **k: ("/ft/terse.gguf", "GGUF adapters (*.gguf)"),
    )
    row = dialog.lora_edit.parent()
    browse, clear = (b for b in row.findChildren(QPushButton))
    qtbot.mouseClick(browse, Qt.MouseButton.LeftButton)
    dialog.lora_scale.setValue(-1.25)
    assert (dialog.settings().lora_path, dialog.settings().lora_scale) == ("/ft/terse.gguf", -1.25)
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    assert dialog.settings().lora_path is None
    assert Settings().lora_scale == SettingsDialog(Settings()).lora_scale.value() == 1.0
