"""Settings: where the model runs. This computer, or a chat server (llama.cpp's llama-server
or any OpenAI-compatible one) with its address, API key and model, a connection test, and
what using it sends where."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.llm.server.address import exposure_warning, parse_server_url
from desktop_rag.core.settings import Settings
from desktop_rag.services.model_service import ModelService

PRIVACY = (
    "Your questions, the conversation and the passages retrieved for them are sent to {where}. "
    "Embedding and the index stay on this computer."
)


def privacy_text(server_url: str) -> str:
    """What using the server at `server_url` sends where, plus the exposure warning."""
    try:
        address = parse_server_url(server_url)
    except UserFacingError as exc:
        return str(exc)
    text = PRIVACY.format(where=address.display)
    warning = exposure_warning(address)  # literal addresses and local names; no lookup here
    return f"{text}\n⚠ {warning}" if warning else text


class ServerBox(QGroupBox):
    """The "Where the model runs" group. The key typed here is not a setting: the dialog's
    caller keeps it with `ModelService.store_key` (the system keyring)."""

    def __init__(
        self,
        settings: Settings,
        models: ModelService | None,
        secrets_file: Path | None,
        parent: QWidget | None = None,
    ):
        super().__init__("Where the model runs", parent)
        self._models = models
        self._secrets_file = secrets_file
        self._test_id: int | None = None
        self.local_radio = QRadioButton("This computer")
        self.server_radio = QRadioButton("A server (llama-server, or OpenAI-compatible)")
        on_server = settings.model_location == "server"
        (self.server_radio if on_server else self.local_radio).setChecked(True)
        self.url_edit = QLineEdit(settings.server_url)
        self.url_edit.setPlaceholderText("http://gpu-box:8080")
        self.url_edit.setAccessibleName("Server address")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("unchanged (a kept key, or none)")
        self.key_edit.setAccessibleName("Server API key")
        self.key_edit.setToolTip("Kept in the system keyring; leave empty to keep the current one")
        self.forget_key = QPushButton("Forget key")
        self._forget = False
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.setAccessibleName("Model on the server")
        self.model_combo.lineEdit().setPlaceholderText("the server's first model")
        if settings.server_model:
            self.model_combo.addItem(settings.server_model)
        self.test_button = QPushButton("Test connection")
        self.test_result = _label()
        self.privacy = _label()

        where = QWidget()
        where_row = QHBoxLayout(where)
        where_row.setContentsMargins(0, 0, 0, 0)
        where_row.addWidget(self.local_radio)
        where_row.addWidget(self.server_radio, 1)
        key_row = QWidget()
        key_layout = QHBoxLayout(key_row)
        key_layout.setContentsMargins(0, 0, 0, 0)
        key_layout.addWidget(self.key_edit, 1)
        key_layout.addWidget(self.forget_key)
        form = QFormLayout(self)
        form.addRow("Model runs on:", where)
        form.addRow("Server address:", self.url_edit)
        form.addRow("API key:", key_row)
        form.addRow("Model:", self.model_combo)
        form.addRow("", self.test_button)
        form.addRow("", self.test_result)
        form.addRow("", self.privacy)

        self.server_radio.toggled.connect(self._on_server_radio_toggled)
        self.url_edit.textChanged.connect(self._on_url_edit_textChanged)
        self.test_button.clicked.connect(self._on_test_button_clicked)
        self.forget_key.clicked.connect(self._on_forget_key_clicked)
        if models is not None:
            models.server_tested.connect(self._on_models_server_tested)
            models.server_test_failed.connect(self._on_models_server_test_failed)
        self._on_server_radio_toggled(self.server_radio.isChecked())

    def values(self) -> dict[str, str]:
        """The Settings fields of this group."""
        return {
            "model_location": "server" if self.server_radio.isChecked() else "local",
            "server_url": self.url_edit.text().strip(),
            "server_model": self.model_combo.currentText().strip(),
        }

    def key_change(self) -> str | None:
        """The key to keep for the server: a new one, "" to forget it, None to keep it as is."""
        typed = self.key_edit.text().strip()
        if typed:
            return typed
        return "" if self._forget else None

    def problem(self) -> str | None:
        """Why these values cannot be saved, or None."""
        values = self.values()
        if values["model_location"] != "server":
            return None
        try:
            parse_server_url(values["server_url"])
        except UserFacingError as exc:
            return str(exc)
        return None

    @Slot(bool)
    def _on_server_radio_toggled(self, on: bool) -> None:
        for widget in (self.url_edit, self.key_edit, self.forget_key, self.model_combo):
            widget.setEnabled(on)
        self.test_button.setEnabled(on and self._models is not None)
        self._update_privacy()

    @Slot(str)
    def _on_url_edit_textChanged(self, _text: str) -> None:
        self.test_result.setText("")
        self._update_privacy()

    @Slot()
    def _on_forget_key_clicked(self) -> None:
        self._forget = True
        self.key_edit.clear()
        self.key_edit.setPlaceholderText("no key (forgotten when you press OK)")

    @Slot()
    def _on_test_button_clicked(self) -> None:
        problem = self.problem()
        if problem or self._models is None or self._secrets_file is None:
            self.test_result.setText(problem or "")
            return
        values = self.values()
        key = self.key_change()
        self.test_result.setText(f"Connecting to {values['server_url']}…")
        self._test_id = self._models.test_server(
            values["server_url"],
            values["server_model"],
            key,
            self._secrets_file,
        )

    @Slot(int, object)
    def _on_models_server_tested(self, request_id: int, info: object) -> None:
        if request_id != self._test_id:
            return
        chosen = self.model_combo.currentText().strip()
        self.model_combo.clear()
        self.model_combo.addItems(list(info.models))
        self.model_combo.setCurrentText(chosen or info.model)
        window = f"{info.n_ctx:,} tokens of context" if info.n_ctx else "context size not given"
        text = (
            f"✓ Connected in {info.seconds * 1000:.0f} ms: {info.kind}, "
            f"{len(info.models)} model{'s' if len(info.models) != 1 else ''}, {window}"
        )
        if info.loras:
            text += f", adapters: {', '.join(lora.name for lora in info.loras)}"
        if info.warning:
            text += f"\n⚠ {info.warning}"
        self.test_result.setText(text)

    @Slot(int, str)
    def _on_models_server_test_failed(self, request_id: int, message: str) -> None:
        if request_id == self._test_id:
            self.test_result.setText(f"✗ {message}")

    def _update_privacy(self) -> None:
        on = self.server_radio.isChecked()
        url = self.url_edit.text().strip()
        self.privacy.setText(privacy_text(url) if on and url else "")


def _label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
