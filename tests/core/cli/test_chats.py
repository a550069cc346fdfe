"""`desktop-rag chats list | export`: the app's saved conversations, headless."""

from __future__ import annotations

from pathlib import Path

from desktop_rag.core import cli
from desktop_rag.core.chats.history import History, SavedSource
from desktop_rag.core.paths import app_paths


def _saved_chat(data_dir: Path) -> int:
    history = History.open(app_paths(data_dir).history_db)
    try:
        conv = history.create_conversation("Tansy Valley Railway")
        history.add_message(conv.id, "user", "When did it open?")
        source = SavedSource(1, "/docs/railway.rst", "The line opened in 1887.", cited=True)
        history.add_message(conv.id, "assistant", "In 1887 [1].", sources=(source,))
        return conv.id
    finally:
        history.close()


def test_list_and_export(tmp_path: Path, capsys):
    assert cli.main(["--data-dir", str(tmp_path), "chats", "list"]) == 0
    assert "no saved conversations" in capsys.readouterr().out
    conv_id = _saved_chat(tmp_path)

    assert cli.main(["--data-dir", str(tmp_path), "chats", "list"]) == 0
    assert f"{conv_id:>5}" in (line := capsys.readouterr().out)
    assert "2 messages  Tansy Valley Railway" in line

    out = tmp_path / "railway.md"
    export = ["--data-dir", str(tmp_path), "chats", "export", str(conv_id), "-o", str(out)]
    assert cli.main(export) == 0
    text = out.read_text(encoding="utf-8")
    assert "## Answer\n\nIn 1887 [1]." in text and "1. `/docs/railway.rst`" in text

    assert cli.main(["--data-dir", str(tmp_path), "chats", "export", "999"]) == 2
    assert "no conversation 999" in capsys.readouterr().err
