"""Trace every answer sentence to the passage that supports it. Pure (the embedder is passed in).

Small models rarely write [n] markers, and when they do, the number is not always right.
So citations are not taken from the model: each sentence of the answer is compared with
the passages the model was given, and cited to the one that holds it. The model's own
markers are checked the same way (kept when that passage supports the sentence, replaced
when another does, dropped when none does). A sentence no passage supports is marked
unsupported, which is how an invented tail ("The answer is: 1987.") shows.

Support is judged per *window* of a passage (one sentence, or two adjacent ones), so the
span shown with a citation is the place that holds the claim, and a claim cannot borrow
its subject from one sentence and its number from another part of the passage. Sentences
are split at . ! ? and at line breaks that start a paragraph, list item, heading or code
(text wrapped at a fixed width stays one sentence); fenced code blocks, lead-ins ending in
a colon and sentences without content words are not claims (nothing to check).

- terms: the sentence's content words (stop words and answer boilerplate such as
  "answer", "source" left out), cut to a 6-letter stem, and its numbers ("2,319" = 2319,
  "six" = 6). Numbers and names with digits (i32, PA-31T) are exact values: every one
  must be in the window. A sentence with fewer than 2 terms ("1902.") or that starts
  "The answer is" is judged together with the question's terms: it answers the question.
- words: the weighted share of the terms found in the window; a term of the question
  weighs 0.5 (restating the question proves little), any other term 1, a number 2; and
  the share of the terms the question does not have ("novel") found there.
- supported when every number is there, NOVEL_MIN of the novel terms are, and the share
  is at least LEX_STRONG; or at least LEX_MIN when the embedder agrees on the meaning
  (cosine of sentence and window at least MEANING_MIN; WITH_QUESTION_MIN of the words
  instead for a claim judged with the question); or, for a paraphrase in other words, a
  cosine of at least DENSE_MIN with DENSE_LEX_MIN of the words and DENSE_NOVEL_MIN of
  the novel ones. Without an embedder (while streaming), LEX_MIN of the words suffices.

Thresholds were set on `benchmarks/answer_quality.py` (answers of the embedded model over
the sample, the Rust book and NTSB reports, plus planted false sentences: a changed
number, a bare "The answer is: 1234.", an off-topic claim) and the unit tests'
paraphrases and contradictions. What this cannot see: a wrong word in an otherwise
supported sentence ("carried coal" for "carried slate"; "f64 is i32" where the passage
says integers default to i32) can still pass; numbers, names and off-topic or invented
sentences are what it catches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from desktop_rag.core.rag.answers import SentenceSupport
from desktop_rag.core.rag.citations import CITATION, cited_numbers, outside_inline_code
from desktop_rag.core.rag.sentences import LIST_MARKER, split_sentences

LEX_STRONG = 0.8  # this share of the words (and every number): supported
LEX_MIN = 0.6  # this share: supported when the meaning agrees too (MEANING_MIN)
NOVEL_MIN = 0.6  # of the words that are not the question's own
MEANING_MIN = 0.7
WITH_QUESTION_MIN = 0.7  # share for a claim judged with the question (its embedding says little)
DENSE_MIN = 0.75  # a paraphrase: this cosine, with at least DENSE_LEX_MIN of the words
DENSE_LEX_MIN = 0.3
DENSE_NOVEL_MIN = 0.34  # and this share of the words the question does not have
# This many terms in a row that the window lacks are a clause of the model's own
# ("..., which means it was built with a single track"): the sentence is not supported.
MAX_ABSENT_RUN = 3
MIN_TERMS = 2  # fewer: the sentence is judged together with the question
# "The answer is: X" states X about the question: judged together with the question.
_ANSWER_LEAD = re.compile(
    r"^\W*(?:so\W+|thus\W+)?(?:the\s+)?(?:correct\s+|right\s+|final\s+|short\s+)?answer"
    r"(?:\s+to\s+(?:the|your)\s+question)?(?:\s+is)?\s*[:\-]?",
    re.IGNORECASE,
)
MAX_SOURCES = 2  # citations shown per sentence

Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, dim) vectors


class Passage(Protocol):
    # Read-only, so that frozen dataclasses (rag.answers.Source) are passages too.
    @property
    def number(self) -> int: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Attribution:
    """The answer with citations placed by support, and each sentence's verdict."""

    text: str
    sentences: tuple[SentenceSupport, ...]

    @property
    def cited(self) -> tuple[int, ...]:
        """Every source number cited, in order of first use."""
        seen: dict[int, None] = {}
        for sentence in self.sentences:
            for number in sentence.sources:
                seen.setdefault(number, None)
        return tuple(seen)


# -- terms --------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0](?=\d{3}\b)")
# Stop words, plus the boilerplate of answers ("according to the sources ...").
_STOP_TEXT = """
    a about above after again all also am an and any are as at be because been before
    being between both but by can could did do does doing done down during each either
    else ever few for from further get gets got had has have having he her here hers him
    his how i if in into is it its itself just let like may me might more most much must
    my no nor not now of off on once only or other our out over own same she should so
    some such than that the their them then there these they this those through to too
    under until up upon us very was way we were what when where which while who whom
    whose why will with would yes yet you your answer answers question questions source
    sources passage passages document documents text according mention mentions
    mentioned state states stated provide provides provided information context say says
    said based given know known contain contains unknown don doesn didn isn aren wasn
    weren cannot can't won sure sorry unfortunately however therefore thus sentence
    sentences correct
"""
_STOP = frozenset(_STOP_TEXT.split())
_COUNTS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
_COUNTS += " fifteen sixteen seventeen eighteen nineteen twenty"
# "one" is more often a pronoun ("one of the ...") than a count, so it stays a word.
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(_COUNTS.split()) if i >= 2}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70"})
_NUMBER_WORDS.update({"eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000"})


def _stem(word: str) -> str:
    if word.endswith("'s") or word.endswith("\u2019s"):
        word = word[:-2]
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        word = word[:-2]
    else:
        for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("s", "")):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
                word = word[: len(word) - len(suffix)] + keep
                break
    return word[:6]


_NUMBER_UNIT = re.compile(r"(\d+)([^\W\d_]+)")


def _tokens(text: str) -> list[str]:
    """Words and numbers; a number with its unit ("600mm", "14km") is two tokens."""
    out: list[str] = []
    for token in _TOKEN.findall(_THOUSANDS.sub("", text.lower())):
        unit = _NUMBER_UNIT.fullmatch(token)
        out += unit.groups() if unit else (token,)
    return out


def terms(text: str) -> list[str]:
    """Content terms of `text`: stems of content words, and numbers as digits."""
    out = []
    for token in _tokens(text):
        if token in _NUMBER_WORDS:
            out.append(_NUMBER_WORDS[token])
        elif token.isdigit():
            out.append(token.lstrip("0") or "0")
        elif (token not in _STOP and len(token) >= 3) or any(c.isdigit() for c in token):
            out.append(_stem(token))
    return out


def _is_number(term: str) -> bool:
    """Numbers and names with digits in them (i32, PA-31T, NCT06145295) are exact values:
    a sentence that states one the passage does not have is not supported by it."""
    return any(c.isdigit() for c in term)


# -- sentences ----------------------------------------------------------------------

_FENCE = re.compile(r"(?ms)^[ \t]*(```|~~~).*?(?:^[ \t]*\1[ \t]*$|\Z)")


@dataclass(frozen=True)
class _Window:
    source: int
    start: int
    end: int
    terms: frozenset[str]
    text: str


def _windows(passage: Passage) -> list[_Window]:
    spans = split_sentences(passage.text)
    out = []
    for i, (a, b) in enumerate(spans):
        for c, d in ((a, b), (a, spans[i + 1][1]) if i + 1 < len(spans) else (a, b)):
            piece = passage.text[c:d]
            out.append(_Window(passage.number, c, d, frozenset(terms(piece)), piece))
    return out


# -- support ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    supported: bool
    score: float
    lex: float
    window: _Window


def _lexical(claim: Sequence[str], asked: set[str], window: _Window) -> tuple[float, float, bool]:
    """(weighted share found, share of non-question terms found, every number found and no
    run of MAX_ABSENT_RUN absent terms)."""
    weight = found = 0.0
    novel = novel_found = 0
    numbers_ok = True
    run = 0
    for term in claim:
        run = 0 if term in window.terms or term in asked else run + 1
        if run >= MAX_ABSENT_RUN:
            numbers_ok = False
        w = 2.0 if _is_number(term) else 0.5 if term in asked else 1.0
        hit = term in window.terms
        weight += w
        found += w * hit
        if _is_number(term) and not hit:
            numbers_ok = False
        if term not in asked:
            novel += 1
            novel_found += hit
    share = found / weight if weight else 0.0
    return share, (novel_found / novel if novel else 1.0), numbers_ok


def _judge(
    claim: Sequence[str],
    asked: set[str],
    windows: Sequence[_Window],
    dense: Callable[[_Window], float] | None,
    *,
    with_question: bool = False,
) -> dict[int, _Verdict]:
    """Best verdict per source number.

    Words decide alone when nearly all are there (LEX_STRONG). With fewer (LEX_MIN), the
    embedder must agree that sentence and window mean much the same (MEANING_MIN):
    measured, sentences assembled from a passage's words into a claim it does not make
    ("We call the Vec::new function ..., which is equivalent to calling Vec::create")
    score 0.6-0.7 on words and under 0.65 on meaning. A claim judged together with the
    question (`with_question`) is too short for its embedding to say much, so words decide.
    """
    best: dict[int, _Verdict] = {}
    for window in windows:
        share, novel, numbers_ok = _lexical(claim, asked, window)
        words_ok = numbers_ok and novel >= NOVEL_MIN
        supported = words_ok and share >= LEX_STRONG
        score = share
        if not supported and words_ok and share >= LEX_MIN:
            if with_question:
                supported = share >= WITH_QUESTION_MIN
            else:
                supported = dense is None or dense(window) >= MEANING_MIN
        paraphrase = numbers_ok and share >= DENSE_LEX_MIN and novel >= DENSE_NOVEL_MIN
        if not supported and dense is not None and paraphrase:
            cosine = dense(window)
            if cosine >= DENSE_MIN:
                supported, score = True, cosine
        verdict = _Verdict(supported, score, share, window)
        current = best.get(window.source)
        if current is None or _rank(verdict) > _rank(current):
            best[window.source] = verdict
    return best


def _rank(verdict: _Verdict) -> tuple[bool, float, float, int]:
    # Supported first, then the higher score; between equals, the shorter window.
    return (
        verdict.supported,
        verdict.score,
        verdict.lex,
        -(verdict.window.end - verdict.window.start),
    )


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    text: str  # without citation markers
    cited: tuple[int, ...]
    code: bool = False  # a fenced code block: shown as written, not a claim


def _spans(answer: str) -> list[tuple[int, int, bool]]:
    """Sentences of the prose and whole fenced code blocks, in order: (start, end, code)."""
    out: list[tuple[int, int, bool]] = []
    last = 0
    for fence in _FENCE.finditer(answer):
        prose = split_sentences(answer[last : fence.start()])
        out += [(last + a, last + b, False) for a, b in prose]
        out.append((fence.start(), fence.end(), True))
        last = fence.end()
    out += [(last + a, last + b, False) for a, b in split_sentences(answer[last:])]
    return out


def _strip_markers(piece: str) -> str:
    """`piece` without citation markers, leaving inline code (`a[0]`) alone."""
    return outside_inline_code(piece, lambda prose: CITATION.sub("", prose)).strip()


def _sentences(answer: str) -> list[_Sentence]:
    """Split the model's text; a marker that opens a sentence belongs to the one before."""
    out: list[_Sentence] = []
    for a, b, code in _spans(answer):
        if code:
            out.append(_Sentence(a, b, answer[a:b], (), code=True))
            continue
        piece = answer[a:b]
        lead = re.match(r"(?:\s*" + CITATION.pattern.strip() + r")+\s*", piece, re.IGNORECASE)
        if lead and out:
            previous = out[-1]
            out[-1] = _Sentence(
                previous.start,
                previous.end,
                previous.text,
                previous.cited + tuple(cited_numbers(lead.group(0))),
            )
            a += lead.end()
            piece = answer[a:b]
        if not piece.strip():
            continue
        out.append(_Sentence(a, b, _strip_markers(piece), tuple(cited_numbers(piece))))
    return out


def attribute(
    answer: str,
    passages: Sequence[Passage],
    *,
    question: str = "",
    embed: Embed | None = None,
) -> Attribution:
    """Cite each sentence of `answer` to the `passages` that support it (see `Attributor`)."""
    return Attributor(passages, question=question)(answer, embed=embed)


class Attributor:
    """Attributes answers to one question's passages; the passages are split into windows
    once, so attributing a streaming answer again at every sentence costs only its own
    sentences."""

    def __init__(self, passages: Sequence[Passage], *, question: str = ""):
        self._asked = set(terms(question))
        self._windows = [w for p in passages for w in _windows(p)]

    def __call__(self, answer: str, *, embed: Embed | None = None) -> Attribution:
        """Cite each sentence of `answer` to the passages that support it.

        `answer`: the model's text, with or without its own [n] markers. `embed`: texts ->
        unit vectors (the knowledge base's embedder); without it only word overlap is
        used. Returns the answer with the model's markers replaced by "[n]" at the end of
        each supported sentence, and one `SentenceSupport` per sentence, with offsets into
        that text.
        """
        return _attribute(answer, self._asked, self._windows, embed)


def _attribute(
    answer: str, asked: set[str], windows: Sequence[_Window], embed: Embed | None
) -> Attribution:
    parsed = _sentences(answer)
    dense_for = _dense_scorer(parsed, windows, embed)
    verdicts: list[tuple[_Sentence, bool, dict[int, _Verdict]]] = []
    for index, sentence in enumerate(parsed):
        own = terms(LIST_MARKER.sub("", sentence.text))
        claim = list(dict.fromkeys(own))
        # A lead-in ("Here is how it works:") or a heading announces; what follows is the claim.
        answer_lead = bool(_ANSWER_LEAD.match(sentence.text))
        lead_in = sentence.text.rstrip().endswith(":") and not answer_lead
        heading = sentence.text.lstrip().startswith("#")
        # Only the question's own words ("Question: When does the harvest start?"): an echo.
        echo = bool(asked) and all(term in asked for term in claim)
        if not claim or sentence.code or lead_in or heading or echo:
            verdicts.append((sentence, False, {}))
            continue
        with_question = len(claim) < MIN_TERMS or answer_lead
        if with_question:
            claim += [t for t in dict.fromkeys(asked) if t not in claim]
        dense = dense_for(index) if dense_for else None
        verdicts.append(
            (sentence, True, _judge(claim, asked, windows, dense, with_question=with_question))
        )
    return _assemble(answer, verdicts)


def _dense_scorer(
    parsed: Sequence[_Sentence],
    windows: Sequence[_Window],
    embed: Embed | None,
) -> Callable[[int], Callable[[_Window], float]] | None:
    """Cosine of sentence i and a window, embedding everything needed in one call, lazily."""
    if embed is None or not parsed or not windows:
        return None
    cache: dict[str, np.ndarray] = {}

    def vectors() -> dict[str, np.ndarray]:
        if not cache:
            texts = list(dict.fromkeys([s.text for s in parsed] + [w.text for w in windows]))
            matrix = np.asarray(embed(texts), dtype=np.float32)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            unit = matrix / np.where(norms == 0, 1, norms)
            cache.update(zip(texts, unit, strict=True))
        return cache

    def for_sentence(index: int) -> Callable[[_Window], float]:
        def cosine(window: _Window) -> float:
            table = vectors()
            return float(table[parsed[index].text] @ table[window.text])

        return cosine

    return for_sentence


def _assemble(
    answer: str, verdicts: Sequence[tuple[_Sentence, bool, dict[int, _Verdict]]]
) -> Attribution:
    out: list[str] = []
    sentences: list[SentenceSupport] = []
    cursor = 0
    length = 0
    for sentence, claim, best in verdicts:
        gap = CITATION.sub("", answer[cursor : sentence.start])
        gap = (gap or " ") if sentences else ""  # the first sentence starts the text
        out.append(gap)
        length += len(gap)
        supporting = sorted(
            (v for v in best.values() if v.supported),
            key=lambda v: (v.window.source not in sentence.cited, -v.score, v.window.source),
        )
        # The model's own pick wins among supporting sources only when it is close to the best.
        if supporting:
            top = max(v.score for v in supporting)
            supporting = [v for v in supporting if v.score >= top - 0.15] or supporting
        chosen = supporting[:MAX_SOURCES]
        body = sentence.text
        # One marker per source ("[1][2]"): the chat view links each to its passage.
        marker = " " + "".join(f"[{v.window.source}]" for v in chosen) if chosen else ""
        shown = _insert_marker(body, marker)
        start = length
        out.append(shown)
        length += len(shown)
        first = chosen[0] if chosen else None
        score = first.score if first else max((v.score for v in best.values()), default=0.0)
        sentences.append(
            SentenceSupport(
                text=body,
                start=start,
                end=length,
                claim=claim,
                supported=claim and bool(chosen),
                sources=tuple(v.window.source for v in chosen),
                span=(first.window.start, first.window.end) if first else None,
                score=round(score, 3),
                model_cited=sentence.cited,
            )
        )
        cursor = sentence.end
    return Attribution("".join(out), tuple(sentences))


_END_PUNCT = re.compile(r"([.!?:;]+[\"'\u201d\u2019)]?)$")


def _insert_marker(body: str, marker: str) -> str:
    """ "... trees." + " [1]" -> "... trees [1]." (the marker before the closing punctuation)."""
    if not marker:
        return body
    match = _END_PUNCT.search(body)
    if match is None:
        return body + marker
    return body[: match.start()] + marker + body[match.start() :]
