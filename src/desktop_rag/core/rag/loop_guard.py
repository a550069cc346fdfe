"""Notice a streaming answer that has started to loop, and say where the loop began. Pure.

Small models at low temperature fall into loops that sampling penalties make rarer but not
impossible: the same line again and again ("The answer to your question is:" until the
token limit), the same sentence a few sentences later, or a short run of characters
repeated. `find_loop(text)` returns the offset where the repetition starts, so the caller
keeps `text[:offset]` (the first occurrence and everything before it) and stops generating.

What counts as a loop (measured against the answers of `benchmarks/answer_quality.py`,
where no legitimate answer trips it):

- an immediately repeated stretch of at least `MIN_UNIT` characters holding 3+ words
  (a sentence or line said twice in a row);
- a shorter stretch repeated until the repeats cover `MIN_RUN` characters
  ("ha ha ha ..."; twice that for punctuation only, "!!!!...");
- a sentence of 4+ words said again anywhere later (sentences as `sentences` splits them,
  so a sentence wrapped at other places is the same sentence; compared case- and
  space-insensitively without citation markers or list numbers, other digits included,
  so "Step 1 ..." and "Step 2 ..." differ).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop_rag.core.rag.citations import CITATION
from desktop_rag.core.rag.sentences import LIST_MARKER, split_sentences

MIN_UNIT = 20  # characters: a repeated stretch this long, said twice in a row, is a loop
MAX_UNIT = 400  # longest stretch we look for (a paragraph)
MIN_RUN = 48  # characters a short repeated stretch must cover
MIN_WORDS = 4  # a repeated sentence must have this many words to count

_WORD = re.compile(r"[^\W_]+")
# Sentence ends: ., ! or ? before a space, or a line break (list items, headings).


def find_loop(text: str) -> int | None:
    """Offset in `text` where a loop starts (keep `text[:offset]`), or None."""
    # Compared with every run of white space as one space: a looping model wraps the
    # same words at different places ("that\nis a" / "that is a").
    squashed, where = _squash(text.rstrip())
    cut = _tail_repeat(squashed)
    tail = None if cut is None else where[cut] if cut < len(where) else len(text)
    sentence = _repeated_sentence(text)
    found = [x for x in (tail, sentence) if x is not None]
    return min(found) if found else None


_RUN_OF_SPACE = re.compile(r"\s+")


def _squash(text: str) -> tuple[str, list[int]]:
    """`text` with each run of white space as one space, and each kept character's offset
    in `text`."""
    out: list[str] = []
    where: list[int] = []
    last = 0
    for match in _RUN_OF_SPACE.finditer(text):
        out.append(text[last : match.start()])
        where.extend(range(last, match.start()))
        out.append(" ")
        where.append(match.start())
        last = match.end()
    out.append(text[last:])
    where.extend(range(last, len(text)))
    return "".join(out), where


def _tail_repeat(text: str) -> int | None:
    """The end of `text` repeats a stretch back to back: where its second copy starts."""
    n = len(text)
    for unit in range(1, min(MAX_UNIT, n // 2) + 1):
        if text[n - 2 * unit : n - unit] != text[n - unit :]:
            continue
        # Earliest offset from which the text is periodic with this unit (the first copy
        # may begin mid-unit, e.g. without the space the later copies start with).
        start = n - 2 * unit
        while start > 0 and text[start - 1] == text[start - 1 + unit]:
            start -= 1
        run = n - start
        if unit >= MIN_UNIT:
            if len(_WORD.findall(text[n - unit :])) >= 3:
                return _boundary(text, start + unit, unit)
        elif run >= 3 * unit and run >= (
            MIN_RUN if _WORD.search(text[n - unit :]) else 2 * MIN_RUN
        ):
            # Punctuation-only runs ("|---|---|" rows of a wide table) get twice the room.
            return _boundary(text, start + unit, unit)
    return None


_SENTENCE_END = re.compile(r"[.!?:;](?=\s|$)")
_SPACE = re.compile(r"\s")


def _boundary(text: str, cut: int, unit: int) -> int:
    """Move a cut made one period into the loop forward (at most one more period) to the
    end of a sentence, or else of a word, so the text kept does not stop mid-word."""
    if text[:cut].rstrip().endswith((".", "!", "?", ":", ";")):
        return cut
    window = text[cut : cut + unit]
    found = _SENTENCE_END.search(window) or _SPACE.search(window)
    if found is None:
        return cut
    return cut + (found.end() if found.re is _SENTENCE_END else found.start())


def _repeated_sentence(text: str) -> int | None:
    seen: set[str] = set()
    spans = split_sentences(text)
    for i, (start, end) in enumerate(spans):
        # The last sentence counts only once it is complete (ends in . ! or ?).
        if i == len(spans) - 1 and not text[start:end].endswith((".", "!", "?")):
            break
        found = _check(text[start:end], start, seen)
        if found is not None:
            return found
    return None


def _check(sentence: str, offset: int, seen: set[str]) -> int | None:
    # Compared without citation markers (the model may cite one copy and not the other)
    # and without a list item's number ("8. You can ..." and "12. You can ...").
    words = _WORD.findall(LIST_MARKER.sub("", CITATION.sub("", sentence)).lower())
    if len(words) < MIN_WORDS:
        return None
    key = " ".join(words)
    if key in seen:
        return offset
    seen.add(key)
    return None


@dataclass
class LoopGuard:
    """Feed it the streamed pieces; `cut` is set once the answer loops.

    Checks run on every piece, on the text so far: `find_loop` is linear in the text for
    each candidate length, a few milliseconds for a 512-token answer.
    """

    text: str = ""
    cut: int | None = None

    def feed(self, piece: str) -> bool:
        """Add a piece; True when the answer now loops (and every later call)."""
        if self.cut is not None:
            return True
        self.text += piece
        self.cut = find_loop(self.text)
        return self.cut is not None

    @property
    def kept(self) -> str:
        """The text before the loop (all of it when there is none), without trailing space.

        A lead-in left dangling by the cut ("... The answer to your question is:") goes
        too, unless it is all there is.
        """
        if self.cut is None:
            return self.text.rstrip()
        kept = self.text[: self.cut].rstrip()
        spans = split_sentences(kept)
        if kept.endswith(":") and len(spans) > 1:
            return kept[: spans[-1][0]].rstrip()
        return kept
