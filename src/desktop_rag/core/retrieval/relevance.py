"""Decide whether retrieved chunks are about the question at all. Pure.

Retrieval always returns its k nearest chunks, even for a question the documents never
mention, and a small model handed unrelated text will happily invent an answer from it.
RRF scores only rank, so we judge each hit on the two absolute signals:

- dense: cosine similarity of the question and chunk embeddings (all-MiniLM-L6-v2).
  Measured on small notes: "What does the Zorblax reactor run on?" vs its note 0.60,
  "what powers the reactor" 0.28, "Which plants keep pests away?" vs a garden diary 0.43;
  unrelated pairs 0.0-0.11, with "What is the capital of France?" vs the reactor note the
  highest at 0.20 (both are "what is X of Y" facts). DENSE_FLOOR sits just above that.
- keyword: a content word of the question (not a stop word) appears in the chunk. We
  check this ourselves instead of trusting BM25 > 0, which is positive as soon as a
  word like "what" or "the" matches when the full-text index keeps stop words.

A hit is relevant when either signal says so; the question is "not covered" when no hit is.

Then, among relevant hits, those clearly less similar than the best (by more than MARGIN
in cosine) are left out: with the best passage at 0.77, one at 0.25 is about something else
that merely shares a word ("tree" in an orchard and in a Rust module tree), and a small model
handed both mixes them up. Measured with benchmarks/answer_quality.py on SmolLM2-135M: no
margin 10/35 answers state the fact, 0.2 17/35, 0.1 19/35 (with the reminder layout), and
21/35 keeping the other passages of a file that made the cut.
Other passages of a file that made the cut are kept with it. Hits found by keyword alone
(no dense score) are kept: an exact name or code the embedder does not understand is what
keyword search is for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from desktop_rag.core.records import Hit

DENSE_FLOOR = 0.25
MARGIN = 0.1

_WORD = re.compile(r"[^\W_]+")
_STOP_TEXT = """
    a about above after again all also am an and any are as at be because been before being
    between both but by can could did do does doing done down during each else ever few for
    from further get gets got had has have having he her here hers him his how i if in into
    is it its itself just know let like made make many may me might more most much must my
    no nor not now of off on once one only or other our out over own please said same say
    says she should show so some such tell than that the their them then there these they
    thing this those through to too under until up upon us use used very want was way we
    well were what when where which while who whom whose why will with would yes yet you
    your document documents file files note notes text page
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


def content_terms(text: str) -> set[str]:
    return {_normalise(w) for w in _WORD.findall(text.lower()) if _keep(w)}


def _keep(word: str) -> bool:
    return len(word) >= 3 and word not in _STOP_WORDS


def _normalise(word: str) -> str:
    # A plural and its singular should match ("reactors" / "reactor"); nothing fancier.
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


def is_relevant(hit: Hit, terms: set[str]) -> bool:
    if hit.dense_score is not None and hit.dense_score >= DENSE_FLOOR:
        return True
    return bool(terms & content_terms(hit.text))


def relevant_hits(query: str, hits: Sequence[Hit], margin: float | None = MARGIN) -> list[Hit]:
    """The hits worth showing the model, in their retrieval order.

    `margin`: leave out hits whose cosine is more than this below the best hit's
    (None: keep every relevant hit).
    """
    terms = content_terms(query)
    kept = [hit for hit in hits if is_relevant(hit, terms)]
    scores = [hit.dense_score for hit in kept if hit.dense_score is not None]
    if margin is None or not scores:
        return kept
    floor = max(scores) - margin
    close = [hit for hit in kept if hit.dense_score is None or hit.dense_score >= floor]
    # Other passages of a file that made the cut are on its topic too: the welcome note's
    # "Privacy" section answers "does anything leave my computer?" at 0.40 next to its
    # title section's 0.58.
    files = {hit.path for hit in close}
    return [hit for hit in kept if hit in close or hit.path in files]
