"""A saved conversation as Markdown: the questions, the answers and the passages they cited.

Pure: messages in, text out. The app's "Export chat…" and `desktop-rag chats export` use it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from desktop_rag.core.chats.history import Conversation, Message, SavedSource, sentences_from

SNIPPET_CHARS = 240


def _snippet(text: str) -> str:
    line = " ".join(text.split())
    if len(line) <= SNIPPET_CHARS:
        return line
    return line[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


def _source_line(source: SavedSource) -> str:
    where = f"`{source.path}`" + (f", page {source.page}" if source.page else "")
    cited = "" if source.cited else " (not cited)"
    return f"{source.number}. {where}{cited}\n   > {_snippet(source.text)}"


def conversation_markdown(conversation: Conversation, messages: Sequence[Message]) -> str:
    day = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.created))
    searched = (
        "only " + ", ".join(f"`{f}`" for f in conversation.folders)
        if conversation.folders
        else "every watched folder"
    )
    intro = f"*Desktop RAG conversation, started {day}; it searched {searched}.*"
    parts = [f"# {conversation.title}", intro]
    for message in messages:
        if message.role == "user":
            parts.append(f"## You\n\n{message.text.strip()}")
            continue
        body = _flag_unsupported(message).strip() or "*(no answer)*"
        if not message.complete:
            body += "\n\n*(the answer was cut off here)*"
        parts.append(f"## Answer\n\n{body}")
        if message.sources:
            lines = "\n".join(_source_line(s) for s in message.sources)
            parts.append(f"**Sources**\n\n{lines}")
    return "\n\n".join(parts) + "\n"


def _flag_unsupported(message: Message) -> str:
    """The answer with "*(not in the sources)*" after each sentence no passage supports."""
    text = message.text
    for sentence in reversed(sentences_from(message.meta)):
        if sentence.unsupported and sentence.end <= len(text):
            text = text[: sentence.end] + " *(not in the sources)*" + text[sentence.end :]
    return text


def export_file_name(title: str) -> str:
    """A file name a person recognises, without characters any platform refuses."""
    safe = "".join(c if c.isalnum() or c in " -_.,()" else " " for c in title)
    stem = " ".join(safe.split()).strip(" .") or "chat"
    return stem[:80] + ".md"
