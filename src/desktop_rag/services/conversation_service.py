"""The conversation being shown: saves every message as it is written, drives the chat service.

The history database is small SQLite in WAL mode, so its commits run on the UI thread. A
streaming answer is saved again at most every `SAVE_INTERVAL_S` and at its end, so a kill
mid-answer keeps the question and the answer so far.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop_rag.core.chats.export import conversation_markdown, export_file_name
from desktop_rag.core.chats.history import (
    DEFAULT_TITLE,
    Conversation,
    History,
    Message,
    sentence_meta,
    title_from,
)
from desktop_rag.core.rag.answers import Answer, PartialAttribution
from desktop_rag.services.chat_service import ChatService

SAVE_INTERVAL_S = 0.5


class ConversationService(QObject):
    conversations_changed = Signal()
    conversation_opened = Signal(int, object)  # conversation id (0: none), list[Message]
    message_added = Signal(object)  # Message
    message_grew = Signal(int, str)  # message id, text so far
    message_attributed = Signal(int, object)  # message id, PartialAttribution
    message_finished = Signal(object)  # Message, with its sources
    answering_started = Signal(int)  # message id of the answer
    answering_ended = Signal(int)
    scope_changed = Signal(object)  # tuple of folders the open chat searches; () for all

    def __init__(self, history_db: Path, chat: ChatService, parent: QObject | None = None):
        super().__init__(parent)
        self.history = History.open(history_db)
        self.chat = chat
        self.current_id: int | None = None
        self.scope: tuple[str, ...] = ()  # of the open chat, or of the next new one
        self._request: int | None = None
        self._answer_id: int | None = None
        self._text = ""
        self._saved_at = 0.0
        chat.token.connect(self._on_chat_token)
        chat.answered.connect(self._on_chat_answered)
        chat.attributed.connect(self._on_chat_attributed)
        chat.failed.connect(self._on_chat_failed)
        chat.stopped.connect(self._on_chat_stopped)

    @property
    def answering(self) -> bool:
        return self._request is not None

    @property
    def answer_text(self) -> str:
        return self._text

    # Conversations.

    def conversations(self) -> list[Conversation]:
        return self.history.conversations()

    def messages(self) -> list[Message]:
        return self.history.messages(self.current_id) if self.current_id else []

    def export_markdown(self) -> tuple[str, str] | None:
        """(suggested file name, Markdown) of the open conversation; None when none is open."""
        conversation = self.history.conversation(self.current_id) if self.current_id else None
        if conversation is None:
            return None
        text = conversation_markdown(conversation, self.history.messages(conversation.id))
        return export_file_name(conversation.title), text

    def new_conversation(self) -> None:
        """Start a blank chat; it is saved once its first question is sent."""
        self.stop()
        self.current_id = None
        self.conversation_opened.emit(0, [])
        self._set_scope(())

    def open(self, conversation_id: int) -> None:
        if conversation_id == self.current_id:
            return
        self.stop()
        self.current_id = conversation_id
        self.conversation_opened.emit(conversation_id, self.history.messages(conversation_id))
        conversation = self.history.conversation(conversation_id)
        self._set_scope(conversation.folders if conversation is not None else ())

    def set_scope(self, folders: Sequence[str]) -> None:
        """Limit the open chat (or the next new one) to these folders; none: search all."""
        if self.current_id is not None:
            self.history.set_folders(self.current_id, folders)
        self._set_scope(tuple(folders))

    def _set_scope(self, folders: tuple[str, ...]) -> None:
        if folders != self.scope:
            self.scope = folders
            self.scope_changed.emit(folders)

    def rename(self, conversation_id: int, title: str) -> None:
        self.history.rename(conversation_id, title)
        self.conversations_changed.emit()

    def delete(self, conversation_id: int) -> None:
        if conversation_id == self.current_id:
            self.new_conversation()
        self.history.delete(conversation_id)
        self.conversations_changed.emit()

    # Asking.

    def send(self, question: str) -> int:
        """Save the question and an empty answer, then ask. Returns the answer's message id."""
        self.stop()
        if self.current_id is None:
            title = title_from(question)
            self.current_id = self.history.create_conversation(title, self.scope).id
        else:
            conv = self.history.conversation(self.current_id)
            if conv is not None and conv.title == DEFAULT_TITLE:
                self.history.rename(self.current_id, title_from(question))
        turns = self._turns(self.history.messages(self.current_id))
        user_id = self.history.add_message(self.current_id, "user", question)
        self.message_added.emit(Message(user_id, self.current_id, "user", question))
        self.conversations_changed.emit()
        return self._ask(question, turns)

    def regenerate(self) -> int | None:
        """Answer the last question again, replacing the last answer."""
        conversation_id = self.current_id
        messages = self.messages()  # none when no conversation is open
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        if last_user is None or conversation_id is None:
            return None
        self.stop()
        after = [m for m in messages if m.id > last_user.id]
        if after:
            self.history.delete_messages_from(conversation_id, after[0].id)
        kept = self.history.messages(conversation_id)
        self.conversation_opened.emit(conversation_id, kept)
        return self._ask(last_user.text, self._turns(kept[:-1]))

    def last_question(self) -> str | None:
        return next((m.text for m in reversed(self.messages()) if m.role == "user"), None)

    def edit_and_resend(self, question: str) -> int | None:
        """Replace the last question (and its answer) with `question`, and ask it."""
        conversation_id = self.current_id
        messages = self.messages()  # none when no conversation is open
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        if last_user is None or conversation_id is None:
            return self.send(question)
        self.stop()
        self.history.delete_messages_from(conversation_id, last_user.id)
        self.conversation_opened.emit(conversation_id, self.history.messages(conversation_id))
        return self.send(question)

    def stop(self) -> None:
        if self._request is not None:
            self.chat.stop()  # emits `stopped`, handled below

    def _ask(self, question: str, turns: list[tuple[str, str]]) -> int:
        assert self.current_id is not None
        self._answer_id = self.history.add_message(self.current_id, "assistant", "", complete=False)
        self._text = ""
        self._saved_at = time.monotonic()
        self.message_added.emit(
            Message(self._answer_id, self.current_id, "assistant", "", complete=False)
        )
        self._request = self.chat.ask(question, turns, self.scope)
        self.answering_started.emit(self._answer_id)
        return self._answer_id

    @staticmethod
    def _turns(messages: list[Message]) -> list[tuple[str, str]]:
        """(question, answer) pairs of the finished exchanges before the new question."""
        turns: list[tuple[str, str]] = []
        question: str | None = None
        for message in messages:
            if message.role == "user":
                question = message.text
            elif question is not None and message.text:
                turns.append((question, message.text))
                question = None
        return turns

    def _end(self, **fields) -> None:
        answer_id, self._answer_id, self._request = self._answer_id, None, None
        if answer_id is None:
            return
        self.history.update_message(answer_id, **fields)
        message = next((m for m in self.messages() if m.id == answer_id), None)
        if message is not None:
            self.message_finished.emit(message)
        self.answering_ended.emit(answer_id)
        self.conversations_changed.emit()

    # Chat results.

    @Slot(int, str)
    def _on_chat_token(self, request_id: int, text: str) -> None:
        if request_id != self._request or self._answer_id is None:
            return
        self._text += text
        self.message_grew.emit(self._answer_id, self._text)
        now = time.monotonic()
        if now - self._saved_at >= SAVE_INTERVAL_S:
            self._saved_at = now
            self.history.update_message(self._answer_id, self._text)

    @Slot(int, object)
    def _on_chat_attributed(self, request_id: int, partial: PartialAttribution) -> None:
        if request_id == self._request and self._answer_id is not None:
            self.message_attributed.emit(self._answer_id, partial)

    @Slot(int, object)
    def _on_chat_answered(self, request_id: int, answer: Answer) -> None:
        if request_id != self._request:
            return
        meta: dict[str, object] = {
            "model": answer.model,
            "gpu_layers": answer.gpu_layers,
            "total_layers": answer.total_layers,
            "covered": answer.covered,
            "seconds": answer.timings.total_s,
        }
        sentences = sentence_meta(answer.sentences)
        if sentences:
            meta["sentences"] = sentences
        if answer.loop_cut:
            meta["loop_cut"] = True
        if answer.interrupted:
            meta["interrupted"] = answer.interrupted
        self._text = answer.text
        self._end(
            text=answer.text,
            sources=answer.sources,
            complete=not answer.stopped,
            meta=meta,
        )

    @Slot(int, str)
    def _on_chat_failed(self, request_id: int, message: str) -> None:
        if request_id == self._request:
            self._end(text=self._text, complete=False, meta={"error": message})

    @Slot(int)
    def _on_chat_stopped(self, request_id: int) -> None:
        if request_id == self._request:
            self._end(text=self._text, complete=False, meta={"stopped": True})

    def close(self) -> None:
        self.stop()
        self.history.close()
