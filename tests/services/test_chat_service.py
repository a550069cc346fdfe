"""ChatService: tokens in order and tagged, Stop at once, no late tokens in the next answer."""

from __future__ import annotations

import threading
import time

import pytest

from desktop_rag.services.chat_service import ChatService
from tests.app_fakes import FakeChatEngine


@pytest.fixture
def chat(qtbot, fake_engine):
    service = ChatService(lambda: fake_engine)
    yield service
    assert service.shutdown()
    assert fake_engine.closed


def test_model_loads_on_the_chat_thread(qtbot, chat, fake_engine):
    with qtbot.waitSignal(chat.model_loaded, timeout=5000) as loaded:
        chat.load_model()
    assert loaded.args[0].name == "FakeLM"
    assert fake_engine.threads and threading.get_ident() not in fake_engine.threads


def test_tokens_arrive_in_order_and_join_to_the_answer(qtbot, chat):
    tokens: list[tuple[int, str]] = []
    chat.token.connect(lambda rid, text: tokens.append((rid, text)))
    with qtbot.waitSignal(chat.answered, timeout=5000) as answered:
        rid = chat.ask("What colour is the rover Quillfeather?")
    assert answered.args[0] == rid
    answer = answered.args[1]
    assert {r for r, _ in tokens} == {rid}
    assert "".join(t for _, t in tokens) == answer.text
    assert answer.text.startswith("Found in rover.md [1].")
    assert answer.sources[0].path == "/docs/rover.md"


def test_stop_is_immediate_and_late_tokens_never_reach_the_next_answer(qtbot, fake_kb):
    engine = FakeChatEngine(fake_kb, token_delay_s=0.05, filler_words=200)
    chat = ChatService(lambda: engine)
    try:
        tokens: list[tuple[int, str]] = []
        chat.token.connect(lambda rid, text: tokens.append((rid, text)))
        with qtbot.waitSignal(chat.token, timeout=5000):
            first = chat.ask("rover Quillfeather colour?")
        started = time.monotonic()
        with qtbot.waitSignal(chat.stopped, timeout=1000) as stopped:
            chat.stop()
        assert stopped.args == [first]
        assert time.monotonic() - started < 0.5
        assert chat.active_request is None

        engine.token_delay_s, engine.filler_words = 0.001, 3
        with qtbot.waitSignal(chat.answered, timeout=5000) as answered:
            second = chat.ask("rover Quillfeather again?")
        tokens_after_stop = [t for r, t in tokens if r == second]
        assert "".join(tokens_after_stop) == answered.args[1].text
        assert all(r in (first, second) for r, _ in tokens)
        # Everything of the first answer arrived before Stop; nothing of it came after.
        first_tokens = [i for i, (r, _) in enumerate(tokens) if r == first]
        second_tokens = [i for i, (r, _) in enumerate(tokens) if r == second]
        assert max(first_tokens) < min(second_tokens)
    finally:
        assert chat.shutdown()


def test_a_broken_model_is_reported_in_words(qtbot, fake_kb):
    engine = FakeChatEngine(fake_kb, fail_load="not a valid GGUF model file")
    chat = ChatService(lambda: engine)
    try:
        with qtbot.waitSignal(chat.model_failed, timeout=5000) as failed:
            chat.load_model()
        assert failed.args[0] == "/models/broken.gguf: not a valid GGUF model file"
    finally:
        chat.shutdown()
