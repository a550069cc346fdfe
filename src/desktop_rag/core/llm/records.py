"""Records the answering side hands to the UI and CLI. All frozen; safe to pass across threads."""

from __future__ import annotations

import time
from dataclasses import dataclass

from desktop_rag.core.llm.gpu_fit import FitPlan


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
class Timings:
    first_token_s: float | None  # from the start of the call to the first token
    tokens: int
    tokens_per_s: float | None  # generation speed after the first token
    total_s: float
    stopped: bool = False  # stop() or cancel ended it early
    attribution_s: float = 0.0  # of total_s: tracing sentences to passages
    # Why the answer ended before the model finished, when not stopped: "the connection to
    # gpu-box:8080 was closed by the server after 41 tokens" (the tokens that came are kept).
    interrupted: str = ""

    @classmethod
    def streamed(
        cls,
        start: float,
        first: float | None,
        last: float | None,
        tokens: int,
        *,
        stopped: bool,
        interrupted: str = "",
    ) -> Timings:
        """The timings of a streamed generation from `time.perf_counter()` readings: the
        call's `start`, the `first` and `last` token's arrival (None when none came)."""
        total = time.perf_counter() - start
        spread = last - first if first is not None and last is not None else 0.0
        speed = (tokens - 1) / spread if tokens > 1 and spread > 0 else None
        first_s = None if first is None else first - start
        return cls(first_s, tokens, speed, total, stopped, interrupted=interrupted)


@dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    size_bytes: int
    quantization: str  # "Q4_K_M", "F16", ...
    n_layers: int  # repeating blocks (the plan counts one more: the output layer)
    gpu_layers: int
    plan: FitPlan
    chat_template_source: str  # "gguf" | "fallback"
    n_ctx: int = 0
    # llama-cpp-python's handler: "chat_template.default" runs the GGUF's own Jinja template
    # (or a built-in name such as "chatml" when it recognises the template, or our fallback).
    chat_format: str = ""
    llama_cpp_version: str = ""
    # The API root of the chat server the model runs on ("http://gpu-box:8080/v1"); empty
    # when it runs on this computer. Questions and passages are sent there.
    server: str = ""
    # The LoRA adapter applied (its resolved path) and its scale; None when there is none.
    lora: str | None = None
    lora_scale: float = 1.0
    # Why the adapter in Settings was refused (the model then runs without it); None if not.
    lora_error: str | None = None


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
