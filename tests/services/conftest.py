from __future__ import annotations

import pytest

from tests.app_fakes import FakeChatEngine, FakeKnowledgeBase


@pytest.fixture
def fake_kb() -> FakeKnowledgeBase:
    kb = FakeKnowledgeBase()
    kb.texts["/docs/rover.md"] = "The moon rover Quillfeather is painted teal."
    return kb


@pytest.fixture
def fake_engine(fake_kb) -> FakeChatEngine:
    return FakeChatEngine(fake_kb)
