"""Exported chats read as Markdown: questions, answers, cut-off marks and cited passages."""

from __future__ import annotations

from desktop_rag.core.chats.export import conversation_markdown, export_file_name
from desktop_rag.core.chats.history import Conversation, Message, SavedSource


def test_a_conversation_exports_with_its_sources():
    conv = Conversation(1, "Orchard trees", created=0.0, updated=0.0)
    passage = "The orchard keeps  212\napple trees."
    source = SavedSource(1, "/docs/orchard.pdf", passage, 3, cited=True)
    other = SavedSource(2, "/docs/notes.md", "x " * 400)
    messages = [
        Message(1, 1, "user", "How many apple trees?"),
        Message(2, 1, "assistant", "212 apple trees [1].", (source, other)),
        Message(3, 1, "user", "And pears?"),
        Message(4, 1, "assistant", "Thirty", complete=False),
    ]
    text = conversation_markdown(conv, messages)
    assert text.startswith("# Orchard trees\n")
    assert "it searched every watched folder" in text
    scoped = Conversation(1, "Orchard trees", 0.0, 0.0, folders=("/docs/farm",))
    assert "it searched only `/docs/farm`" in conversation_markdown(scoped, messages)
    assert "## You\n\nHow many apple trees?" in text
    assert "## Answer\n\n212 apple trees [1]." in text
    assert "1. `/docs/orchard.pdf`, page 3\n   > The orchard keeps 212 apple trees." in text
    assert "2. `/docs/notes.md` (not cited)" in text
    assert max(len(line) for line in text.splitlines()) < 300  # long passages are cut
    assert text.index("And pears?") < text.index("Thirty\n\n*(the answer was cut off here)*")


def test_file_names_are_safe_everywhere():
    assert export_file_name("What is 2/3 of <x>?") == "What is 2 3 of x.md"
    assert export_file_name("...") == "chat.md"


def test_sentences_no_passage_supports_are_marked_in_the_export():
    from desktop_rag.core.chats.history import sentence_meta
    from desktop_rag.core.rag.answers import SentenceSupport

    text = "212 apple trees [1]. They were planted by monks."
    sentences = (
        SentenceSupport("212 apple trees.", 0, 20, True, True, (1,), (0, 30), 1.0),
        SentenceSupport("They were planted by monks.", 21, len(text), True, False),
    )
    conv = Conversation(1, "Orchard", 0.0, 0.0)
    answer = Message(2, 1, "assistant", text, meta={"sentences": sentence_meta(sentences)})
    exported = conversation_markdown(conv, [answer])
    assert "212 apple trees [1]. They were planted by monks. *(not in the sources)*" in exported
