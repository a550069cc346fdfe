"""Build the grounded chat prompt within the model's context window. Pure.

Budget, in the model's own tokens: context window - answer reserve (max_tokens) -
instructions - question - template overhead. Recent conversation turns get up to half
of what is left (newest first, the oldest dropped), the numbered sources get the rest,
in retrieval order; a source that does not fit is skipped and the next one tried.
The wording is short and plain on purpose: SmolLM2-135M loses the thread with more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.rag.answers import Source, Turn
from desktop_rag.core.rag.citations import strip_citations
from desktop_rag.core.records import Hit

SYSTEM_PROMPT = (
    "Answer the question using only the numbered sources. "
    "Cite the sources you use by number, like [1]. "
    "If the sources do not contain the answer, say that you do not know."
)


def system_prompt(instructions: str = "") -> str:
    """The grounding rules, then the user's own instructions (language, tone, length)."""
    extra = instructions.strip()
    return f"{SYSTEM_PROMPT}\n\n{extra}" if extra else SYSTEM_PROMPT


# Role markers and separators the chat template adds around each message (ChatML: 5).
MESSAGE_OVERHEAD = 8
HISTORY_SHARE = 0.5

CountTokens = Callable[[list[str]], list[int]]


@dataclass(frozen=True)
class Prompt:
    messages: tuple[dict[str, str], ...]
    sources: tuple[Source, ...]  # numbered as in the prompt, cited=False
    turns_used: int
    prompt_tokens: int  # estimate: counted pieces plus template overhead
    answer_tokens: int  # tokens reserved for the answer
    skipped_hits: int  # relevant hits that did not fit


def source_label(path: str, page: int | None) -> str:
    name = PurePath(path).name or path
    return f"{name}, page {page}" if page is not None else name


def source_block(number: int, hit: Hit) -> str:
    return f"[{number}] {source_label(hit.path, hit.page)}\n{hit.text.strip()}"


# Where the model starts a turn of its own ("Question: ...", a new "Sources:" block, a chat
# role), the answer is over. llama.cpp cuts the text where a stop string starts.
STOP_SEQUENCES = (
    "\nQuestion:",
    "\nQ:",
    "\nSources:",
    "\nUser:",
    "\nAssistant:",
    "\nAnswer:",
    "<|im_start|>",
)

# Prompt layouts measured with benchmarks/answer_quality.py on SmolLM2-135M (35 questions,
# temperature 0, repeat penalty 1.1, relevance margin 0.2): facts stated / loops cut /
# mean words: question first 15 / 12 / 84; sources first 17 / 7 / 44; sources first with
# a one-line reminder after the question 15 / 3 / 21, and 19 / 1 / 19 with margin 0.1.
# The reminder keeps a small model on the passages and short ("Answer briefly, ..." measured
# 17 / 2 / 25). The user's own instructions (language, length) replace its first half.
LAYOUTS = ("sources_first", "question_first", "sources_first_reminder")
LAYOUT_DEFAULT = "sources_first_reminder"
REMINDER = "Answer in one or two sentences, using only the sources above."
REMINDER_WITH_INSTRUCTIONS = "Answer using only the sources above."


def user_message(
    blocks: Sequence[str], question: str, layout: str = LAYOUT_DEFAULT, reminder: str = REMINDER
) -> str:
    if not blocks:
        return f"Question: {question}"
    sources = "Sources:\n\n" + "\n\n".join(blocks)
    if layout == "question_first":
        return f"Question: {question}\n\n{sources}"
    if layout == "sources_first_reminder":
        return f"{sources}\n\nQuestion: {question}\n{reminder}"
    return f"{sources}\n\nQuestion: {question}"


def build_prompt(
    question: str,
    hits: Sequence[Hit],
    history: Sequence[Turn],
    *,
    count: CountTokens,
    n_ctx: int,
    max_tokens: int,
    system: str = SYSTEM_PROMPT,
    layout: str = LAYOUT_DEFAULT,
) -> Prompt:
    # The user's own instructions come after the grounding rules; a length of theirs wins.
    reminder = REMINDER if system == SYSTEM_PROMPT else REMINDER_WITH_INSTRUCTIONS
    reserve = max(1, min(max_tokens, n_ctx // 2))
    # Source blocks are counted with a provisional number; the final number (same width
    # for n < 10) is assigned once we know which hits fit.
    turns = [(t.question, strip_citations(t.answer)) for t in reversed(history)]
    texts = [system, user_message(["[1] x"], question, layout, reminder)]
    texts += [source_block(i + 1, hit) for i, hit in enumerate(hits)]
    texts += [text for pair in turns for text in pair]
    counts = count(texts)
    system_n, frame_n = counts[0], counts[1]
    hit_ns = counts[2 : 2 + len(hits)]
    turn_ns = counts[2 + len(hits) :]

    fixed = system_n + frame_n + 3 * MESSAGE_OVERHEAD  # system, user, assistant header
    budget = n_ctx - reserve - fixed
    if budget <= 0:
        raise UserFacingError(
            f"The question is too long for the model's context window ({n_ctx} tokens)",
            hint="shorten the question, or raise the context size in Settings",
        )

    history_budget = int(budget * HISTORY_SHARE)
    used_history, kept_turns = 0, 0
    for i in range(len(turns)):
        cost = turn_ns[2 * i] + turn_ns[2 * i + 1] + 2 * MESSAGE_OVERHEAD
        if used_history + cost > history_budget:
            break  # this turn and everything older are dropped
        used_history += cost
        kept_turns += 1

    room = budget - used_history
    chosen: list[Hit] = []
    used_sources = 0
    for hit, n in zip(hits, hit_ns, strict=True):
        cost = n + 2  # the blank line between blocks
        if used_sources + cost <= room:
            chosen.append(hit)
            used_sources += cost

    sources = tuple(
        Source(i + 1, h.path, h.page, h.text, h.start, h.end, h.score, cited=False)
        for i, h in enumerate(chosen)
    )
    blocks = [source_block(i + 1, h) for i, h in enumerate(chosen)]
    messages: list[dict[str, str]] = [{"role": "system", "content": system}]
    for q, a in reversed(turns[:kept_turns]):
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    messages.append({"role": "user", "content": user_message(blocks, question, layout, reminder)})
    return Prompt(
        messages=tuple(messages),
        sources=sources,
        turns_used=kept_turns,
        prompt_tokens=fixed + used_history + used_sources,
        answer_tokens=reserve,
        skipped_hits=len(hits) - len(chosen),
    )
