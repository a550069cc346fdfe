"""Settings, "Where the model runs": the values round-trip, Test connection tells the cause
(real ModelService thread, tiny servers on 127.0.0.1), the privacy notice says where
questions go, and a new key is kept in the key store (never in settings.json)."""

from __future__ import annotations

from desktop_rag.core import settings as settings_mod
from desktop_rag.core.llm.server.secrets import KeyStore
from desktop_rag.core.settings import Settings
from desktop_rag.services.model_service import ModelService
from desktop_rag.ui.settings_dialog import SettingsDialog
from tests.server_fakes import MODELS, FakeServer, json_route

PROPS = json_route(200, {"default_generation_settings": {"n_ctx": 8192}})


def test_server_values_round_trip_and_the_privacy_notice(qtbot):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    box = dialog.server_box
    assert box.local_radio.isChecked() and not box.url_edit.isEnabled()
    box.server_radio.setChecked(True)
    box.url_edit.setText("http://93.184.216.34:8080/v1")
    box.model_combo.setCurrentText("qwen2.5-14b")
    got = dialog.settings()
    assert (got.model_location, got.server_url, got.server_model) == (
        "server",
        "http://93.184.216.34:8080/v1",
        "qwen2.5-14b",
    )
    assert "sent to 93.184.216.34:8080" in box.privacy.text()
    assert "plain http://" in box.privacy.text()  # a public address without TLS
    box.url_edit.setText("http://192.168.1.20:8080")
    assert "sent to 192.168.1.20:8080" in box.privacy.text() and "⚠" not in box.privacy.text()
    # An address that cannot be one keeps OK disabled, and says why.
    box.url_edit.setText("ftp://box")
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    assert "not an http" in dialog.problems.text()
    box.local_radio.setChecked(True)
    assert dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    assert box.privacy.text() == ""


def test_test_connection_reports_the_server_and_its_problems(qtbot, tmp_path, loopback_only):
    secrets = tmp_path / "secrets.json"
    models = ModelService()
    try:
        dialog = SettingsDialog(Settings(), models, secrets_file=secrets)
        qtbot.addWidget(dialog)
        box = dialog.server_box
        box.server_radio.setChecked(True)
        routes = {"GET /v1/models": MODELS, "GET /props": PROPS}
        with FakeServer(routes) as server:
            box.url_edit.setText(server.url)
            box.key_edit.setText("sk-typed")
            with qtbot.waitSignal(models.server_tested, timeout=10_000):
                box.test_button.click()
            assert box.test_result.text().startswith("✓ Connected")
            assert "8,192 tokens of context" in box.test_result.text()
            assert box.model_combo.currentText() == "fake-model"
            assert server.requests[-1][2]["authorization"] == "Bearer sk-typed"
        refusing = {"GET /v1/models": json_route(401, {"error": {"message": "bad key"}})}
        with FakeServer(refusing) as server:
            box.url_edit.setText(server.url)
            with qtbot.waitSignal(models.server_test_failed, timeout=10_000):
                box.test_button.click()
            assert box.test_result.text().startswith("✗")
            assert "refused the API key" in box.test_result.text()
    finally:
        models.shutdown()


def test_a_new_key_goes_to_the_key_store_not_the_settings(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from desktop_rag.ui import settings_flow

    def accept_with_server(self) -> int:
        self.server_box.server_radio.setChecked(True)
        self.server_box.url_edit.setText("http://gpu-box:8080")
        self.server_box.key_edit.setText("sk-kept")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", accept_with_server)
    paths = window.services.paths
    with qtbot.waitSignal(window.services.models.key_stored, timeout=10_000):
        assert settings_flow.run_settings_dialog(window)
    saved, _ = settings_mod.load(paths.settings_file)
    assert (saved.model_location, saved.server_url) == ("server", "http://gpu-box:8080")
    assert "sk-kept" not in paths.settings_file.read_text()
    assert KeyStore(paths.secrets_file).get("gpu-box:8080") == "sk-kept"
