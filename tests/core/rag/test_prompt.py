"""Prompt budget with a fake tokenizer: one token per whitespace-separated word."""

import pytest

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.rag.answers import Turn
from desktop_rag.core.rag.prompt import (
    MESSAGE_OVERHEAD,
    REMINDER,
    SYSTEM_PROMPT,
    build_prompt,
    system_prompt,
)
from desktop_rag.core.records import Hit

calls: list[int] = []


def words(texts: list[str]) -> list[int]:
    calls.append(len(texts))
    return [len(t.split()) for t in texts]


def hit(path: str, n_words: int, page: int | None = None, tag: str = "w") -> Hit:
    text = " ".join(f"{tag}{i}" for i in range(n_words))
    return Hit(path, path, text, 0, len(text), 0.5, page=page)


def build(question="What runs the reactor?", hits=(), history=(), n_ctx=1000, max_tokens=200):
    return build_prompt(question, hits, history, count=words, n_ctx=n_ctx, max_tokens=max_tokens)


def test_sources_are_numbered_and_labelled_with_file_and_page():
    p = build(hits=[hit("/d/manual.pdf", 5, page=3), hit("/d/notes/zorblax.md", 4)])
    assert p.messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    user = p.messages[-1]
    assert user["role"] == "user"
    assert user["content"].startswith("Sources:\n\n[1] manual.pdf, page 3\nw0 w1 w2 w3 w4\n\n")
    assert "[2] zorblax.md\nw0 w1 w2 w3\n\nQuestion: What runs the reactor?" in user["content"]
    assert [(s.number, s.path, s.page, s.cited) for s in p.sources] == [
        (1, "/d/manual.pdf", 3, False),
        (2, "/d/notes/zorblax.md", None, False),
    ]
    assert "cite" in SYSTEM_PROMPT.lower() and "[1]" in SYSTEM_PROMPT


def test_all_pieces_are_counted_in_one_round_trip():
    calls.clear()
    build(hits=[hit("/a", 3), hit("/b", 3)], history=[Turn("q one", "a one")])
    assert calls == [2 + 2 + 2]


def test_sources_fill_the_budget_and_a_too_big_one_is_skipped():
    # budget = 300 - 100 (answer) - system - frame - 3 overheads
    p = build(
        hits=[hit("/a", 60), hit("/big", 200), hit("/b", 60), hit("/c", 60)],
        n_ctx=310,
        max_tokens=100,
    )
    fixed = len(SYSTEM_PROMPT.split()) + len(
        ["Sources:", "[1]", "x", "Question:", "What", "runs", "the", "reactor?"]
    )
    fixed += len(REMINDER.split())
    budget = 310 - 100 - fixed - 3 * MESSAGE_OVERHEAD
    assert 2 * 62 <= budget < 3 * 62  # room for two 60-word sources, not three
    assert [s.path for s in p.sources] == ["/a", "/b"]
    assert p.skipped_hits == 4 - len(p.sources)
    assert p.prompt_tokens + p.answer_tokens <= 310
    assert "/big" not in p.messages[-1]["content"]


def test_the_answer_reserve_never_takes_more_than_half_the_window():
    p = build(hits=[hit("/a", 50)], n_ctx=512, max_tokens=2000)
    assert p.answer_tokens == 256
    assert [s.path for s in p.sources] == ["/a"]


def test_recent_turns_are_kept_and_the_oldest_dropped():
    history = [Turn(f"question {i} " + "x " * 40, f"answer {i} [1] " + "y " * 40) for i in range(6)]
    p = build(history=history, hits=[hit("/a", 20)], n_ctx=1000, max_tokens=200)
    assert 0 < p.turns_used < 6
    convo = p.messages[1:-1]
    kept = [int(m["content"].split()[1]) for m in convo if m["role"] == "user"]
    assert kept == list(range(6 - p.turns_used, 6))  # newest, in chronological order
    assert all("[1]" not in m["content"] for m in convo if m["role"] == "assistant")
    history_tokens = sum(len(m["content"].split()) + MESSAGE_OVERHEAD for m in convo)
    assert history_tokens <= (1000 - 200) // 2
    assert [s.path for s in p.sources] == ["/a"]


def test_a_question_longer_than_the_window_is_a_clear_error():
    with pytest.raises(UserFacingError, match="too long for the model's context window"):
        build(question="word " * 900, n_ctx=1000, max_tokens=200)


def test_the_users_instructions_follow_the_grounding_rules():
    assert system_prompt("") == system_prompt("  \n") == SYSTEM_PROMPT
    assert system_prompt(" Answer in French. ") == SYSTEM_PROMPT + "\n\nAnswer in French."


def test_layouts_place_the_question_and_the_reminder():
    from desktop_rag.core.rag.prompt import LAYOUT_DEFAULT, REMINDER, user_message

    blocks = ["[1] a.md\nalpha"]
    assert LAYOUT_DEFAULT == "sources_first_reminder"
    default = user_message(blocks, "Why?")
    assert default == f"Sources:\n\n[1] a.md\nalpha\n\nQuestion: Why?\n{REMINDER}"
    assert user_message(blocks, "Why?", "sources_first").endswith("\n\nQuestion: Why?")
    assert user_message(blocks, "Why?", "question_first").startswith("Question: Why?\n\nSources:")
    # The default layout is the one the budget counts.
    p = build(hits=[hit("/d/a.md", 3)])
    assert p.messages[-1]["content"].endswith(REMINDER)
    # With instructions of the user's own, the reminder says nothing about length.
    own = build_prompt(
        "Why?",
        [hit("/d/a.md", 3)],
        (),
        count=words,
        n_ctx=1000,
        max_tokens=200,
        system=system_prompt("Answer at length, in French."),
    )
    assert own.messages[-1]["content"].endswith("\nAnswer using only the sources above.")
