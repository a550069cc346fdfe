"""A real MainWindow on real services, with the fake engine behind them (fast)."""

from __future__ import annotations

import pytest

from desktop_rag.core.settings import Settings
from desktop_rag.ui.main_window import MainWindow
from tests.app_fakes import FakeChatEngine, FakeKnowledgeBase, build_fake_services


class RecordingOpener:
    def __init__(self):
        self.calls: list[tuple[str, int]] = []

    def __call__(self, path: str, page: int) -> None:
        self.calls.append((path, page))


@pytest.fixture
def fake_kb() -> FakeKnowledgeBase:
    return FakeKnowledgeBase()


@pytest.fixture
def fake_engine(fake_kb) -> FakeChatEngine:
    return FakeChatEngine(fake_kb)


@pytest.fixture
def make_window(qtbot, data_dir, fake_kb, fake_engine):
    windows = []

    def make(settings: Settings | None = None) -> MainWindow:
        settings = settings or Settings()
        services = build_fake_services(data_dir, fake_kb, fake_engine, settings)
        window = MainWindow(services, settings, opener=RecordingOpener())
        qtbot.addWidget(window)
        window.show()
        services.start()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window._quitting = True
        window.close()
        assert window.services._shut_down


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()
