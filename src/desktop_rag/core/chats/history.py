"""Saved conversations in SQLite.

Every message is committed the moment it is written, and a streaming answer is saved
again as it grows, so a kill mid-answer keeps everything before it. WAL mode keeps those
small commits cheap enough to run on the UI thread.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop_rag.core.rag.answers import SentenceSupport

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    folders TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',
    complete INTEGER NOT NULL DEFAULT 1,
    meta TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""

DEFAULT_TITLE = "New chat"
TITLE_CHARS = 60


@dataclass(frozen=True)
class SavedSource:
    """A cited passage as it was shown with an answer (the file may have changed since)."""

    number: int
    path: str
    text: str
    page: int | None = None
    start: int = 0
    end: int = 0
    score: float = 0.0
    cited: bool = False


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    created: float
    updated: float
    message_count: int = 0
    folders: tuple[str, ...] = ()  # the folders its questions search; none: all of them


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    role: str  # "user" | "assistant"
    text: str
    sources: tuple[SavedSource, ...] = ()
    complete: bool = True  # False: the answer was cut off (stopped, failed or killed)
    meta: dict[str, Any] | None = None


def title_from(question: str) -> str:
    """A conversation title from its first question: one line, cut at a word."""
    line = " ".join(question.split())
    if len(line) <= TITLE_CHARS:
        return line or DEFAULT_TITLE
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut + "…"


def _source_from(data: dict[str, Any]) -> SavedSource:
    known = {k: data[k] for k in SavedSource.__dataclass_fields__ if k in data}
    return SavedSource(**known)


def to_saved_sources(sources: Any) -> tuple[SavedSource, ...]:
    """Accept the answerer's source records (any object with the same fields) or dicts."""
    saved = []
    for source in sources or ():
        data = (
            source
            if isinstance(source, dict)
            else {
                name: getattr(source, name)
                for name in SavedSource.__dataclass_fields__
                if hasattr(source, name)
            }
        )
        saved.append(_source_from(data))
    return tuple(saved)


def sentence_meta(sentences: Any) -> list[dict[str, Any]]:
    """Sentence verdicts (`SentenceSupport`) as saved in a message's meta."""
    return [asdict(s) for s in sentences or ()]


def sentences_from(meta: dict[str, Any] | None) -> tuple[SentenceSupport, ...]:
    """The sentence verdicts saved with an answer (none for answers saved before them)."""
    out = []
    for data in (meta or {}).get("sentences") or ():
        try:
            span = data.get("span")
            out.append(
                SentenceSupport(
                    text=str(data["text"]),
                    start=int(data["start"]),
                    end=int(data["end"]),
                    claim=bool(data["claim"]),
                    supported=bool(data["supported"]),
                    sources=tuple(int(n) for n in data.get("sources") or ()),
                    span=(int(span[0]), int(span[1])) if span else None,
                    score=float(data.get("score", 0.0)),
                    model_cited=tuple(int(n) for n in data.get("model_cited") or ()),
                )
            )
        except (KeyError, TypeError, ValueError, IndexError):
            return ()  # written by another version: show the answer without marks
    return tuple(out)


class History:
    """One connection, used from one thread (the UI thread in the app)."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    @classmethod
    def open(cls, db_path: Path) -> History:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(db_path), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process kill; only a power cut may lose the last commit.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(_SCHEMA)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(conversations)")}
        if "folders" not in columns:  # a history written before chats could be limited
            conn.execute("ALTER TABLE conversations ADD COLUMN folders TEXT NOT NULL DEFAULT '[]'")
        return cls(conn)

    def close(self) -> None:
        self._conn.close()

    # Conversations.

    def create_conversation(
        self, title: str = DEFAULT_TITLE, folders: Sequence[str] = ()
    ) -> Conversation:
        now = time.time()
        cur = self._conn.execute(
            "INSERT INTO conversations (title, created, updated, folders) VALUES (?, ?, ?, ?)",
            (title, now, now, json.dumps(list(folders))),
        )
        return Conversation(int(cur.lastrowid or 0), title, now, now, 0, tuple(folders))

    def conversations(self) -> list[Conversation]:
        """Most recently updated first."""
        rows = self._conn.execute(
            "SELECT c.id, c.title, c.created, c.updated, COUNT(m.id), c.folders "
            "FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id "
            "GROUP BY c.id ORDER BY c.updated DESC, c.id DESC"
        ).fetchall()
        return [
            Conversation(cid, title, created, updated, count, tuple(_load_list(folders)))
            for cid, title, created, updated, count, folders in rows
        ]

    def conversation(self, conversation_id: int) -> Conversation | None:
        for conv in self.conversations():
            if conv.id == conversation_id:
                return conv
        return None

    def rename(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split()) or DEFAULT_TITLE
        self._conn.execute(
            "UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)
        )

    def set_folders(self, conversation_id: int, folders: Sequence[str]) -> None:
        self._conn.execute(
            "UPDATE conversations SET folders = ? WHERE id = ?",
            (json.dumps(list(folders)), conversation_id),
        )

    def delete(self, conversation_id: int) -> None:
        self._conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # Messages.

    def messages(self, conversation_id: int) -> list[Message]:
        rows = self._conn.execute(
            "SELECT id, conversation_id, role, text, sources, complete, meta FROM messages "
            "WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [
            Message(
                id=row[0],
                conversation_id=row[1],
                role=row[2],
                text=row[3],
                sources=tuple(_source_from(s) for s in json.loads(row[4])),
                complete=bool(row[5]),
                meta=json.loads(row[6]) or None,
            )
            for row in rows
        ]

    def add_message(
        self,
        conversation_id: int,
        role: str,
        text: str,
        *,
        sources: Any = (),
        complete: bool = True,
        meta: dict[str, Any] | None = None,
    ) -> int:
        now = time.time()
        with self._conn:
            self._conn.execute("BEGIN")
            cur = self._conn.execute(
                "INSERT INTO messages (conversation_id, role, text, sources, complete, meta, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    role,
                    text,
                    _dump_sources(sources),
                    int(complete),
                    json.dumps(meta or {}),
                    now,
                ),
            )
            self._touch(conversation_id, now)
        return int(cur.lastrowid or 0)

    def update_message(
        self,
        message_id: int,
        text: str,
        *,
        sources: Any = None,
        complete: bool | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Save a growing or finished answer; None leaves a field as it is."""
        sets = ["text = ?"]
        values: list[str | int] = [text]
        if sources is not None:
            sets.append("sources = ?")
            values.append(_dump_sources(sources))
        if complete is not None:
            sets.append("complete = ?")
            values.append(int(complete))
        if meta is not None:
            sets.append("meta = ?")
            values.append(json.dumps(meta))
        values.append(message_id)
        self._conn.execute(f"UPDATE messages SET {', '.join(sets)} WHERE id = ?", values)

    def delete_messages_from(self, conversation_id: int, message_id: int) -> None:
        """Drop a message and everything after it (regenerate, edit and resend)."""
        self._conn.execute(
            "DELETE FROM messages WHERE conversation_id = ? AND id >= ?",
            (conversation_id, message_id),
        )

    def _touch(self, conversation_id: int, now: float) -> None:
        self._conn.execute(
            "UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id)
        )


def _load_list(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _dump_sources(sources: Any) -> str:
    return json.dumps([asdict(s) for s in to_saved_sources(sources)])
