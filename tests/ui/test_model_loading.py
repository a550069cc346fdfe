"""Loading the chat model shows its progress, can be cancelled, and can be started again."""

from __future__ import annotations

import pytest


@pytest.fixture
def slow_engine(fake_engine):
    fake_engine.load_steps = tuple(i / 10 for i in range(11))
    fake_engine.load_step_s = 0.2
    return fake_engine


def test_progress_cancel_and_load_again(qtbot, slow_engine, make_window):
    window = make_window()
    status, chat = window.status, window.services.chat
    qtbot.waitUntil(lambda: "loading… " in status.model_label.text(), timeout=5000)
    assert status.model_button.isVisibleTo(status) and status.model_button.text() == "Cancel"

    with qtbot.waitSignal(chat.model_failed, timeout=5000) as failed:
        status.model_button.click()
    assert failed.args == ["loading was cancelled"]
    assert status.model_label.text() == "Model: not loaded"
    assert status.model_button.text() == "Load" and chat.model_info is None

    slow_engine.load_step_s = 0.0
    with qtbot.waitSignal(chat.model_loaded, timeout=5000):
        status.model_button.click()
    assert status.model_label.text().startswith("Model: FakeLM")
    assert not status.model_button.isVisibleTo(status)
