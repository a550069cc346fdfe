"""Status bar: the model, where its layers run, the index size, and background work."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton

from desktop_rag.core.llm.server.address import exposure_warning, parse_server_url
from desktop_rag.ui.server_settings import privacy_text

if TYPE_CHECKING:  # the index's module imports LanceDB: not at start-up
    from desktop_rag.core.knowledge_base import IndexStatus
    from desktop_rag.core.llm.model_info import ModelInfo


def format_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def short_reason(reason: str) -> str:
    """The head of a fit plan's reason, for the status bar; the tooltip has all of it."""
    return reason.split(" (")[0].split(": running")[0].split(", so ")[0].strip()


def gpu_text(info: ModelInfo) -> tuple[str, str]:
    """("GPU 31/31 layers" or "CPU only", the reason) from a ModelInfo."""
    plan = info.plan
    reason = plan.reason or ""
    gpu_layers = info.gpu_layers or 0
    total = plan.total_layers or (info.n_layers or 0) + 1
    if gpu_layers <= 0:
        return "CPU only", reason or "no layers on the GPU"
    return f"GPU {min(gpu_layers, total)}/{total} layers", reason


class StatusBar(QStatusBar):
    cancel_load_requested = Signal()
    load_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_label = QLabel("Model: starting…")
        # Cancel while a model loads (a large one takes a while); Load after a failure.
        self.model_button = QToolButton()
        self.model_button.setAutoRaise(True)
        self.model_button.hide()
        self.model_button.clicked.connect(self._on_model_button_clicked)
        self.gpu_label = QLabel("")
        # While the model runs on a server: what leaves this computer, and to where.
        self.privacy_label = QLabel("")
        self.privacy_label.setAccessibleName("Where questions are sent")
        self.privacy_label.hide()
        self.lora_label = QLabel("")  # the adapter in use, or that it was refused
        self.lora_label.hide()
        self.index_label = QLabel("Index: opening…")
        self.work_label = QLabel("")
        for widget in (
            self.model_label,
            self.model_button,
            self.gpu_label,
            self.lora_label,
            self.privacy_label,
            self.index_label,
        ):
            self.addWidget(widget)
        self.addPermanentWidget(self.work_label)

    def _show_model_button(self, text: str) -> None:
        self.model_button.setText(text)
        self.model_button.setToolTip(
            "Stop loading the model" if text == "Cancel" else "Load the chat model again"
        )
        self.model_button.show()

    @Slot()
    def _on_model_button_clicked(self) -> None:
        if self.model_button.text() == "Cancel":
            self.cancel_load_requested.emit()
        else:
            self.load_requested.emit()

    def model_loading(self) -> None:
        self.model_label.setText("Model: loading…")
        self.gpu_label.setText("")
        self.lora_label.hide()
        self._show_model_button("Cancel")

    def model_progress(self, fraction: float) -> None:
        self.model_label.setText(f"Model: loading… {fraction:.0%}")

    def model_loaded(self, info: ModelInfo) -> None:
        name = info.name or "model"
        quant = info.quantization
        self.model_label.setText(f"Model: {name}" + (f" ({quant})" if quant else ""))
        if info.server:
            self.model_label.setText(f"Model: {name} (server)")
        self.model_button.hide()
        self.model_label.setToolTip(info.path)
        text, reason = gpu_text(info)
        if text == "CPU only" and reason:
            text = f"{text}: {short_reason(reason)}"
        server = info.server
        if server:
            text = "on the server"
        self.gpu_label.setText(text)
        self.gpu_label.setToolTip(reason)
        self._show_privacy(server)
        self._show_lora(info)

    def _show_privacy(self, server: str) -> None:
        if not server:
            self.privacy_label.hide()
            return
        address = parse_server_url(server)
        warning = exposure_warning(address)
        mark = "⚠ unencrypted: " if warning else ""
        self.privacy_label.setText(f"{mark}questions and passages go to {address.display}")
        self.privacy_label.setToolTip(privacy_text(server))
        self.privacy_label.show()

    def _show_lora(self, info: ModelInfo) -> None:
        lora, error = info.lora, info.lora_error
        if error:
            self.lora_label.setText("⚠ LoRA adapter not applied")
            self.lora_label.setToolTip(error)
            self.showMessage(f"The LoRA adapter was not applied: {error}", 15000)
        elif lora:
            scale = info.lora_scale
            self.lora_label.setText(f"LoRA: {Path(lora).stem} ×{scale:g}")
            self.lora_label.setToolTip(lora)
        self.lora_label.setVisible(bool(lora or error))

    def model_failed(self, message: str) -> None:
        self.model_label.setText("Model: not loaded")
        self.privacy_label.hide()
        self.model_label.setToolTip(message)
        self.gpu_label.setText("")
        self.lora_label.hide()
        self._show_model_button("Load")
        self.showMessage(f"The chat model could not be loaded: {message}", 15000)

    def index_status(self, status: IndexStatus) -> None:
        files = status.files
        chunks = status.chunks
        size = format_bytes(status.index_bytes)
        self.index_label.setText(
            f"Index: {_count(files, 'file')} · {_count(chunks, 'passage')} · {size}"
        )
        self.index_label.setToolTip(f"Embedding model: {status.embedder or '—'}")

    def index_failed(self, message: str) -> None:
        self.index_label.setText("Index: unavailable")
        self.index_label.setToolTip(message)

    def work(self, text: str) -> None:
        self.work_label.setText(text)
