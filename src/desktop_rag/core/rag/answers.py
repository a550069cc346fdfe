"""Answers and the sources they cite, as handed to the UI and CLI. Frozen; safe across threads."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_rag.core.llm.model_info import Timings


@dataclass(frozen=True)
class Source:
    """A chunk given to the model, numbered as the model saw it ([number] in the answer)."""

    number: int
    path: str
    page: int | None
    text: str
    start: int
    end: int
    score: float
    cited: bool  # the answer cites it by number


@dataclass(frozen=True)
class SentenceSupport:
    """One sentence of the answer and what supports it.

    `start`/`end`: character offsets of the sentence in `Attribution.text`. `sources`: the
    numbers of the passages that support it, best first (empty when none). `span`:
    character offsets of the supporting window in the first source's text. `score`: 0-1,
    the support of the best window (the lexical share, or the cosine when a paraphrase).
    `claim`: False for sentences with nothing to check ("I do not know."); those are
    neither supported nor unsupported. `model_cited`: what the model itself cited.
    """

    text: str
    start: int
    end: int
    claim: bool
    supported: bool
    sources: tuple[int, ...] = ()
    span: tuple[int, int] | None = None
    score: float = 0.0
    model_cited: tuple[int, ...] = ()

    @property
    def unsupported(self) -> bool:
        return self.claim and not self.supported


@dataclass(frozen=True)
class PartialAttribution:
    """While an answer streams: its first `consumed` characters (whole sentences), as
    attributed so far. `text` replaces those characters in the view; `sentences` carry
    offsets into `text`. Word overlap only: the final `Answer` may differ."""

    text: str
    sentences: tuple[SentenceSupport, ...]
    consumed: int


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


@dataclass(frozen=True)
class Answer:
    text: str
    # Cited sources, or every provided source (cited=False) when the answer cites none.
    sources: tuple[Source, ...]
    model: str
    gpu_layers: int
    total_layers: int
    timings: Timings
    covered: bool  # False when the indexed documents do not cover the question
    provided: tuple[Source, ...] = ()  # everything the model was given, cited flags set
    stopped: bool = False  # the person stopped it
    # Each sentence of `text` with the passages that support it (offsets into `text`).
    sentences: tuple[SentenceSupport, ...] = ()
    loop_cut: bool = False  # the model looped; generation was stopped, the text before kept
    interrupted: str = ""  # why the answer ended early (a dropped connection); text kept
