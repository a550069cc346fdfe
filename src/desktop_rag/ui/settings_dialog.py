"""Settings: the chat model and how it runs, the embedding model, chunking and sources."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.core import settings as settings_mod
from desktop_rag.core.llm.model.advice import model_advice
from desktop_rag.core.paths import default_chat_model, default_embedder_dir
from desktop_rag.core.settings import Settings
from desktop_rag.services.model_service import ModelPreview, ModelService
from desktop_rag.ui.server_settings import ServerBox
from desktop_rag.ui.status_bar import format_bytes

BUILTIN_CHAT = "Built-in: SmolLM2-135M-Instruct"
BUILTIN_EMBEDDER = "Built-in: all-MiniLM-L6-v2"


def _path_row(edit: QLineEdit, browse: QPushButton, reset: QPushButton) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    layout.addWidget(browse)
    layout.addWidget(reset)
    return row


def _text_box(text: str, placeholder: str, *, lines: int) -> QPlainTextEdit:
    box = QPlainTextEdit(text)
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)  # keyboard users leave the box with Tab
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 12)
    return box


def _wrapping_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        models: ModelService | None = None,
        parent=None,
        *,
        secrets_file: Path | None = None,
    ):
        """`secrets_file`: where API keys go without a system keyring (the connection test
        reads a kept key from there or the keyring)."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        self._original = settings
        self._models = models
        self._inspect_id: int | None = None
        self.preview: ModelPreview | None = None

        # Chat model.
        self.model_edit = QLineEdit(settings.chat_model or "")
        self.model_edit.setPlaceholderText(BUILTIN_CHAT)
        self.model_edit.setAccessibleName("Chat model file")
        browse_model = QPushButton("Browse…")
        reset_model = QPushButton("Built-in")
        self.model_info = _wrapping_label()
        self.auto_layers = QCheckBox("Automatic (fit as many layers as free VRAM allows)")
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(-1, 999)
        self.gpu_layers.setSpecialValueText("All")
        self.gpu_layers.setToolTip(
            "Layers on the GPU: 0 runs on the CPU, All puts every layer there"
        )
        if settings.n_gpu_layers == "auto":
            self.auto_layers.setChecked(True)
        else:
            self.gpu_layers.setValue(int(settings.n_gpu_layers))
        self.plan_label = _wrapping_label()
        self.model_advice = _wrapping_label()
        self.lora_edit = QLineEdit(settings.lora_path or "")
        self.lora_edit.setPlaceholderText("None")
        self.lora_edit.setAccessibleName("LoRA adapter file")
        self.lora_edit.setToolTip(
            "A fine-tuning of the chat model as a GGUF LoRA adapter (convert_lora_to_gguf.py); "
            "it is checked against the model when it loads"
        )
        browse_lora = QPushButton("Browse…")
        clear_lora = QPushButton("None")
        self.lora_scale = QDoubleSpinBox()
        self.lora_scale.setRange(-4.0, 4.0)
        self.lora_scale.setSingleStep(0.1)
        self.lora_scale.setToolTip(
            "How strongly the adapter applies: 1.00 as trained, 0 not at all"
        )
        self.lora_scale.setValue(settings.lora_scale)
        self.context = QSpinBox()
        self.context.setRange(512, 131072)
        self.context.setSingleStep(512)
        self.context.setSuffix(" tokens")
        self.context.setValue(settings.context_size)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setValue(settings.temperature)
        self.repeat_penalty = QDoubleSpinBox()
        self.repeat_penalty.setRange(1.0, 2.0)
        self.repeat_penalty.setSingleStep(0.05)
        self.repeat_penalty.setToolTip(
            "Makes the model less likely to repeat what it just wrote (1.00: off)"
        )
        self.repeat_penalty.setValue(settings.repeat_penalty)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(16, 32768)
        self.max_tokens.setSingleStep(64)
        self.max_tokens.setSuffix(" tokens")
        self.max_tokens.setToolTip("The longest answer; at most half the context is kept for it")
        self.max_tokens.setValue(settings.max_tokens)
        self.threads = QSpinBox()
        self.threads.setRange(0, 512)
        self.threads.setSpecialValueText("Automatic")
        self.threads.setToolTip("CPU threads for the layers that run on the CPU")
        self.threads.setValue(settings.threads or 0)
        self.instructions = _text_box(
            settings.instructions,
            "Optional, for every answer, e.g.: Answer in French. Keep it short.",
            lines=3,
        )
        self.instructions.setAccessibleName("Instructions for the model")
        layers_row = QWidget()
        layers_layout = QHBoxLayout(layers_row)
        layers_layout.setContentsMargins(0, 0, 0, 0)
        layers_layout.addWidget(self.auto_layers, 1)
        layers_layout.addWidget(self.gpu_layers)
        chat_box = QGroupBox("Chat model")
        chat_form = QFormLayout(chat_box)
        chat_form.addRow("GGUF file:", _path_row(self.model_edit, browse_model, reset_model))
        chat_form.addRow("", self.model_info)
        chat_form.addRow("GPU layers:", layers_row)
        chat_form.addRow("", self.plan_label)
        chat_form.addRow("", self.model_advice)
        chat_form.addRow("LoRA adapter:", _path_row(self.lora_edit, browse_lora, clear_lora))
        chat_form.addRow("Adapter scale:", self.lora_scale)
        chat_form.addRow("Context size:", self.context)
        chat_form.addRow("Temperature:", self.temperature)
        chat_form.addRow("Repeat penalty:", self.repeat_penalty)
        chat_form.addRow("Longest answer:", self.max_tokens)
        chat_form.addRow("CPU threads:", self.threads)
        chat_form.addRow("Instructions:", self.instructions)

        # Retrieval.
        self.embedder_edit = QLineEdit(settings.embedder or "")
        self.embedder_edit.setPlaceholderText(BUILTIN_EMBEDDER)
        self.embedder_edit.setAccessibleName("Embedding model folder")
        browse_embedder = QPushButton("Browse…")
        reset_embedder = QPushButton("Built-in")
        self.embedder_note = _wrapping_label()
        self.chunk_tokens = QSpinBox()
        self.chunk_tokens.setRange(32, 4096)
        self.chunk_tokens.setSuffix(" tokens")
        self.chunk_tokens.setValue(settings.chunk_tokens)
        self.chunk_note = _wrapping_label()
        self.chunk_overlap = QSpinBox()
        self.chunk_overlap.setRange(0, 2048)
        self.chunk_overlap.setSuffix(" tokens")
        self.chunk_overlap.setValue(settings.chunk_overlap)
        self.pdf_timeout = QSpinBox()
        self.pdf_timeout.setRange(10, 3600)
        self.pdf_timeout.setSuffix(" s")
        self.pdf_timeout.setValue(int(settings.pdf_timeout_s))
        self.pdf_timeout.setAccessibleName("PDF time limit")
        self.pdf_timeout.setToolTip(
            "What one page of a PDF (or opening it) may take; a whole file may take this plus "
            "half a second a page. A file cut short keeps the pages read and says so."
        )
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 50)
        self.top_k.setValue(settings.top_k)
        self.ignore_edit = _text_box(
            "\n".join(settings.ignore_patterns),
            "One pattern per line, as in .gitignore:\n*.log\ndrafts/",
            lines=4,
        )
        self.ignore_edit.setAccessibleName("Files to skip")
        ignore_note = _wrapping_label()
        ignore_note.setText(
            "Hidden files, version control, node_modules, virtual environments and editor "
            "temp files are always skipped."
        )
        retrieval_box = QGroupBox("Index and retrieval")
        retrieval_form = QFormLayout(retrieval_box)
        retrieval_form.addRow(
            "Embedding model:", _path_row(self.embedder_edit, browse_embedder, reset_embedder)
        )
        retrieval_form.addRow("", self.embedder_note)
        retrieval_form.addRow("Chunk size:", self.chunk_tokens)
        retrieval_form.addRow("", self.chunk_note)
        retrieval_form.addRow("Chunk overlap:", self.chunk_overlap)
        retrieval_form.addRow("PDF time limit:", self.pdf_timeout)
        retrieval_form.addRow("Sources per answer:", self.top_k)
        retrieval_form.addRow("Skip files:", self.ignore_edit)
        retrieval_form.addRow("", ignore_note)

        self.server_box = ServerBox(settings, models, secrets_file)

        self.tray = QCheckBox("Keep watching folders in the tray when the window is closed")
        self.tray.setChecked(settings.tray_icon)
        self.problems = _wrapping_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.server_box)
        layout.addWidget(chat_box)
        layout.addWidget(retrieval_box)
        layout.addWidget(self.tray)
        layout.addWidget(self.problems)
        layout.addWidget(self.buttons)

        browse_model.clicked.connect(self._on_browse_model_clicked)
        reset_model.clicked.connect(self.model_edit.clear)
        browse_lora.clicked.connect(self._on_browse_lora_clicked)
        clear_lora.clicked.connect(self.lora_edit.clear)
        browse_embedder.clicked.connect(self._on_browse_embedder_clicked)
        reset_embedder.clicked.connect(self.embedder_edit.clear)
        self.model_edit.editingFinished.connect(self._on_model_changed)
        self.model_edit.textChanged.connect(self._on_model_text_changed)
        self.auto_layers.toggled.connect(self._on_model_changed)
        self.gpu_layers.valueChanged.connect(self._on_model_changed)
        self.context.valueChanged.connect(self._on_model_changed)
        self.embedder_edit.textChanged.connect(self._on_embedder_edit_textChanged)
        self.embedder_edit.textChanged.connect(self._on_values_changed)
        for spin in (self.chunk_tokens, self.chunk_overlap):
            spin.valueChanged.connect(self._on_values_changed)
        self.server_box.url_edit.textChanged.connect(self._on_values_changed)
        self.server_box.server_radio.toggled.connect(self._on_values_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        if models is not None:
            models.inspected.connect(self._on_models_inspected)
            models.inspect_failed.connect(self._on_models_inspect_failed)
        self._on_model_changed()
        self._on_embedder_edit_textChanged(self.embedder_edit.text())
        self._update_chunk_note()
        # The minimum Qt derives with word-wrapped labels is too short: rows would overlap.
        self.resize(self.sizeHint())

    # The result.

    def settings(self) -> Settings:
        layers = "auto" if self.auto_layers.isChecked() else self.gpu_layers.value()
        return replace(
            self._original,
            chat_model=self.model_edit.text().strip() or None,
            lora_path=self.lora_edit.text().strip() or None,
            lora_scale=round(self.lora_scale.value(), 2),
            n_gpu_layers=layers,
            context_size=self.context.value(),
            temperature=round(self.temperature.value(), 2),
            repeat_penalty=round(self.repeat_penalty.value(), 2),
            max_tokens=self.max_tokens.value(),
            threads=self.threads.value() or None,
            instructions=self.instructions.toPlainText().strip(),
            embedder=self.embedder_edit.text().strip() or None,
            chunk_tokens=self.chunk_tokens.value(),
            chunk_overlap=self.chunk_overlap.value(),
            pdf_timeout_s=float(self.pdf_timeout.value()),
            top_k=self.top_k.value(),
            ignore_patterns=self.ignore_patterns(),
            tray_icon=self.tray.isChecked(),
            **self.server_box.values(),
        )

    def ignore_patterns(self) -> tuple[str, ...]:
        lines = (line.strip() for line in self.ignore_edit.toPlainText().splitlines())
        return tuple(line for line in lines if line and not line.startswith("#"))

    def embedder_changed(self) -> bool:
        return self.settings().embedder != self._original.embedder

    def chunking_changed(self) -> bool:
        new = self.settings()
        return (new.chunk_tokens, new.chunk_overlap) != (
            self._original.chunk_tokens,
            self._original.chunk_overlap,
        )

    # Slots.

    @Slot()
    def _on_browse_model_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a chat model", self.model_edit.text(), "GGUF models (*.gguf)"
        )
        if path:
            self.model_edit.setText(path)
            self._on_model_changed()

    @Slot()
    def _on_browse_lora_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a LoRA adapter", self.lora_edit.text(), "GGUF adapters (*.gguf)"
        )
        if path:
            self.lora_edit.setText(path)

    @Slot()
    def _on_browse_embedder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose a sentence-transformers model folder", self.embedder_edit.text()
        )
        if folder:
            self.embedder_edit.setText(folder)

    @Slot(str)
    def _on_model_text_changed(self, _text: str) -> None:
        if not self.model_edit.hasFocus():  # Browse…, Built-in: inspect at once
            self._on_model_changed()

    @Slot()
    def _on_model_changed(self, *_args) -> None:
        self.gpu_layers.setEnabled(not self.auto_layers.isChecked())
        if self._models is None:
            return
        path = self.model_edit.text().strip()
        if not path:
            try:
                path = str(default_chat_model())
            except FileNotFoundError as exc:
                self.model_info.setText(str(exc))
                return
        self.model_info.setText("Reading the model file…")
        self._inspect_id = self._models.inspect(path, self.settings())

    @Slot(int, object)
    def _on_models_inspected(self, request_id: int, preview: ModelPreview) -> None:
        if request_id != self._inspect_id:
            return  # an older file or older settings
        self.preview = preview
        self.model_info.setText(
            f"{format_bytes(preview.size_bytes)} · {preview.quantization} · "
            f"{preview.n_layers} layers · trained for {preview.n_ctx_train:,} tokens of context"
        )
        plan = preview.plan
        vram = plan.expected_vram_bytes
        text = f"Plan: {plan.gpu_layers} of {plan.total_layers} layers on the GPU"
        if vram:
            text += f", about {format_bytes(vram)} of VRAM"
        self.plan_label.setText(f"{text}. {plan.reason}")
        self.model_advice.setText(
            model_advice(
                preview.path, preview.size_bytes, builtin=not self.model_edit.text().strip()
            )
        )
        self._on_values_changed()

    @Slot(int, str)
    def _on_models_inspect_failed(self, request_id: int, message: str) -> None:
        if request_id == self._inspect_id:
            self.preview = None
            self.model_info.setText(f"Cannot use this file: {message}")
            self.plan_label.setText("")
            self.model_advice.setText("")

    @Slot(str)
    def _on_embedder_edit_textChanged(self, _text: str) -> None:
        if self.embedder_changed():
            self.embedder_note.setText(
                "Changing the embedding model means every folder must be indexed again "
                "(vectors of two models never mix). You will be offered a re-index."
            )
        else:
            self.embedder_note.setText("Turns passages into vectors for search.")

    def _update_chunk_note(self) -> None:
        """What the embedding model reads of a chunk: its own limit caps the chunk size."""
        from desktop_rag.core.embedding.embedder import model_max_tokens
        from desktop_rag.core.ingest.chunking import chunk_limits

        folder = self.embedder_edit.text().strip()
        try:
            model_dir = Path(folder).expanduser() if folder else default_embedder_dir()
        except FileNotFoundError:
            model_dir = None
        limit = model_max_tokens(model_dir) if model_dir is not None else None
        if limit is None:
            self.chunk_note.setText("")
            return
        cap, _ = chunk_limits(self.chunk_tokens.value(), 0, limit)
        name = "all-MiniLM-L6-v2" if not folder else model_dir.name
        text = (
            f"{name} reads at most {limit} tokens of a passage, so chunks are cut at "
            f"{cap} tokens (room is kept for the heading)."
        )
        if self.chunk_tokens.value() > cap:
            text = f"Larger than the model reads: {text}"
        self.chunk_note.setText(text)

    @Slot()
    def _on_values_changed(self, *_args) -> None:
        self._update_chunk_note()
        problems = settings_mod.validate(self.settings())
        server_problem = self.server_box.problem()
        if server_problem:
            problems.append(server_problem)
        self.problems.setText("\n".join(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)
