"""Saved conversations: ordering, rename/delete, sources round trip, survival of a kill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from desktop_rag.core.chats.history import History, SavedSource, title_from
from desktop_rag.core.rag.answers import Source


def test_messages_round_trip_with_sources(tmp_path: Path):
    history = History.open(tmp_path / "h.sqlite3")
    conv = history.create_conversation()
    history.add_message(conv.id, "user", "What is the colour of the moon rover?")
    src = Source(1, "/docs/rover.pdf", 3, "The rover is teal.", 10, 28, 0.8, True)
    msg_id = history.add_message(conv.id, "assistant", "", complete=False)
    history.update_message(msg_id, "It is teal [1].", sources=[src], complete=True)

    messages = history.messages(conv.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].text == "It is teal [1]."
    assert messages[1].complete
    assert messages[1].sources == (
        SavedSource(1, "/docs/rover.pdf", "The rover is teal.", 3, 10, 28, 0.8, True),
    )


def test_list_rename_delete(tmp_path: Path):
    history = History.open(tmp_path / "h.sqlite3")
    first = history.create_conversation("first")
    second = history.create_conversation("second")
    history.add_message(first.id, "user", "hello")  # touching `first` moves it to the top
    assert [c.title for c in history.conversations()] == ["first", "second"]
    assert history.conversations()[0].message_count == 1

    history.rename(second.id, "  renamed   chat ")
    assert history.conversation(second.id).title == "renamed chat"
    history.delete(first.id)
    assert [c.id for c in history.conversations()] == [second.id]
    assert history.messages(first.id) == []


def test_delete_messages_from_drops_the_tail(tmp_path: Path):
    history = History.open(tmp_path / "h.sqlite3")
    conv = history.create_conversation()
    ids = [
        history.add_message(conv.id, r, t)
        for r, t in [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]
    ]
    history.delete_messages_from(conv.id, ids[2])
    assert [m.text for m in history.messages(conv.id)] == ["q1", "a1"]


def test_title_from_question():
    assert title_from("  What is\n the budget?  ") == "What is the budget?"
    long = "word " * 40
    title = title_from(long)
    assert title.endswith("…") and len(title) <= 61 and " wor…" not in title
    assert title_from("   ") == "New chat"


def test_kill_mid_answer_keeps_everything_before_it(tmp_path: Path):
    db = tmp_path / "h.sqlite3"
    script = textwrap.dedent(
        f"""
        import sys, time
        from desktop_rag.core.chats.history import History
        h = History.open(__import__("pathlib").Path({str(db)!r}))
        c = h.create_conversation("killed")
        h.add_message(c.id, "user", "question before the kill")
        m = h.add_message(c.id, "assistant", "", complete=False)
        h.update_message(m, "partial answer so far")
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)

    history = History.open(db)
    (conv,) = history.conversations()
    messages = history.messages(conv.id)
    assert [(m.role, m.text, m.complete) for m in messages] == [
        ("user", "question before the kill", True),
        ("assistant", "partial answer so far", False),
    ]


def test_a_chat_keeps_its_folders_and_an_older_history_gains_the_column(tmp_path):
    db = tmp_path / "history.sqlite3"
    old = sqlite3.connect(db)
    old.executescript(
        "CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,"
        " created REAL NOT NULL, updated REAL NOT NULL);"
        "INSERT INTO conversations (title, created, updated) VALUES ('before', 1, 1);"
    )
    old.commit()
    old.close()
    history = History.open(db)
    try:
        (before,) = history.conversations()
        assert before.title == "before" and before.folders == ()
        scoped = history.create_conversation("work only", folders=["/home/a/work"])
        history.set_folders(before.id, ["/home/a/notes", "/home/a/papers"])
        by_id = {c.id: c for c in history.conversations()}
        assert by_id[scoped.id].folders == ("/home/a/work",)
        assert by_id[before.id].folders == ("/home/a/notes", "/home/a/papers")
    finally:
        history.close()
