"""ConversationService: every message saved as written, partial answers kept, regenerate/edit."""

from __future__ import annotations

import pytest

from desktop_rag.core.chats.history import History
from desktop_rag.services.chat_service import ChatService
from desktop_rag.services.conversation_service import ConversationService
from tests.app_fakes import FakeChatEngine


@pytest.fixture
def make_service(qtbot, tmp_path):
    made = []

    def make(engine: FakeChatEngine) -> ConversationService:
        chat = ChatService(lambda: engine)
        service = ConversationService(tmp_path / "history.sqlite3", chat)
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()
        assert service.chat.shutdown()


def _saved(tmp_path):
    history = History.open(tmp_path / "history.sqlite3")  # a second reader, like after a restart
    try:
        (conv,) = history.conversations()
        return conv, history.messages(conv.id)
    finally:
        history.close()


def test_question_and_answer_are_saved_with_sources(qtbot, tmp_path, make_service, fake_engine):
    service = make_service(fake_engine)
    with qtbot.waitSignal(service.message_finished, timeout=5000) as done:
        service.send("What colour is the rover Quillfeather?")
    assert done.args[0].text.startswith("Found in rover.md [1].")
    conv, messages = _saved(tmp_path)
    assert conv.title == "What colour is the rover Quillfeather?"
    assert [(m.role, m.complete) for m in messages] == [("user", True), ("assistant", True)]
    assert messages[1].text == done.args[0].text
    assert messages[1].sources[0].path == "/docs/rover.md"
    assert messages[1].meta["model"] == "FakeLM"


def test_a_partial_answer_is_on_disk_while_it_streams(qtbot, tmp_path, make_service, fake_kb):
    engine = FakeChatEngine(fake_kb, token_delay_s=0.02, filler_words=200)
    service = make_service(engine)
    service.send("rover Quillfeather colour?")

    def partial_saved():
        _conv, messages = _saved(tmp_path)
        assert messages[1].text.startswith("Found in rover.md [1]. word0")
        assert not messages[1].complete

    qtbot.waitUntil(partial_saved, timeout=5000)
    with qtbot.waitSignal(service.answering_ended, timeout=2000):
        service.stop()
    _conv, messages = _saved(tmp_path)
    assert messages[1].text == service.answer_text
    assert not messages[1].complete and messages[1].meta == {"stopped": True}


def test_regenerate_and_edit_replace_the_last_exchange(qtbot, tmp_path, make_service, fake_engine):
    service = make_service(fake_engine)
    with qtbot.waitSignal(service.message_finished, timeout=5000):
        service.send("rover Quillfeather colour?")
    with qtbot.waitSignal(service.message_finished, timeout=5000):
        service.send("and the rover Quillfeather name?")
    with qtbot.waitSignal(service.message_finished, timeout=5000):
        service.regenerate()
    _conv, messages = _saved(tmp_path)
    assert [m.text for m in messages if m.role == "user"] == [
        "rover Quillfeather colour?",
        "and the rover Quillfeather name?",
    ]
    assert len(messages) == 4
    # The follow-up was asked with the first exchange as history, both times.
    assert [len(h) for _q, h in fake_engine.questions] == [0, 1, 1]

    with qtbot.waitSignal(service.message_finished, timeout=5000):
        service.edit_and_resend("what is in the garden?")
    _conv, messages = _saved(tmp_path)
    assert [m.text for m in messages if m.role == "user"] == [
        "rover Quillfeather colour?",
        "what is in the garden?",
    ]
    assert messages[-1].text.startswith("I could not find it.")


def test_rename_delete_and_new(qtbot, tmp_path, make_service, fake_engine):
    service = make_service(fake_engine)
    with qtbot.waitSignal(service.message_finished, timeout=5000):
        service.send("rover Quillfeather colour?")
    conv_id = service.current_id
    service.rename(conv_id, "Rover")
    assert [c.title for c in service.conversations()] == ["Rover"]
    with qtbot.waitSignal(service.conversation_opened) as opened:
        service.delete(conv_id)
    assert opened.args == [0, []]
    assert service.current_id is None and service.conversations() == []
