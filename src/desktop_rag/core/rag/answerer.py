"""The RAG pipeline: retrieve, judge relevance, build the prompt, stream the answer, cite.

Qt-free and meant for one caller at a time (the UI calls it from its model worker thread).
`cancel`, set from any thread, ends the answer within 0.5 s.

While the answer streams, a `LoopGuard` watches it; once it loops, generation stops and
the text before the loop is kept (`Answer.loop_cut`). Then every sentence is attributed
to the passage that supports it (`attribution.attribute`): the citations shown come from
there, not from the model's markers, and a sentence nothing supports is marked.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from desktop_rag.core.llm.hosts import Cancelled, ChatHost
from desktop_rag.core.llm.model_info import Timings
from desktop_rag.core.llm.server.errors import ContextExceeded
from desktop_rag.core.rag.answers import Answer, PartialAttribution, Source, Turn
from desktop_rag.core.rag.attribution import Attribution, Attributor, Embed
from desktop_rag.core.rag.loop_guard import LoopGuard
from desktop_rag.core.rag.prompt import STOP_SEQUENCES, build_prompt, system_prompt
from desktop_rag.core.rag.sentences import split_sentences
from desktop_rag.core.records import Hit
from desktop_rag.core.retrieval.relevance import MARGIN, relevant_hits
from desktop_rag.core.settings import Settings

NOT_COVERED = "The indexed documents do not cover this question, so I cannot answer it."
_PIECES = re.compile(r"\S+\s*|\s+")

Search = Callable[[str, int, Sequence[str]], list[Hit]]  # query, k, folders (none: all)


class Answerer:
    """`search` finds passages, `host` runs the model (here or on a server); `embed`
    (texts -> unit vectors, the knowledge base's embedder) lets attribution recognise
    paraphrases, and without it attribution compares words only."""

    def __init__(
        self,
        search: Search,
        host: ChatHost,
        settings: Settings,
        *,
        embed: Embed | None = None,
        layout: str | None = None,
        margin: float | None = MARGIN,
    ):
        self._search = search
        self._host = host
        self._settings = settings
        self._embed = embed
        self._layout = layout  # None: the measured default of `build_prompt`
        self._margin = margin  # benchmarks try others; None keeps every relevant hit

    def reconfigure(self, settings: Settings) -> None:
        """Temperature, answer length, sources and instructions apply from the next question."""
        self._settings = settings

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        on_token: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
        folders: Sequence[str] = (),
        on_attribution: Callable[[PartialAttribution], None] | None = None,
    ) -> Answer:
        """Answer `question` from the passages under `folders` (none: all).

        `on_token` gets each streamed piece; `on_attribution`, each time a sentence is
        complete, the answer so far with its citations (see `PartialAttribution`). Both
        run on the calling thread.

        Returns an `Answer`, never None: `covered=False` with the fixed `NOT_COVERED` text
        (streamed too) when no passage is about the question; `stopped=True` when `cancel`
        was set or the host was stopped (the text so far is kept; empty if the model was
        still loading); `loop_cut=True` when the model looped and was cut off;
        `interrupted` says why a chat server's stream ended early.
        Raises `ModelError` (a `UserFacingError`: the model cannot load, its process died,
        with the cause) and its subclass `ServerError` for a chat server that refuses or
        cannot be reached; `ContextExceeded` only when even the server's own context
        window cannot hold the prompt. Search errors (`IndexMismatchError`) pass through.
        """
        start = time.perf_counter()
        emit = on_token or _ignore
        question = question.strip()
        # A follow-up ("and what does it run on?") rarely names its subject; the previous
        # question usually does, so both go to retrieval and to the relevance check.
        query = f"{history[-1].question} {question}" if history else question
        hits = relevant_hits(
            query, self._search(query, self._settings.top_k, folders), margin=self._margin
        )
        if not hits:
            return self._not_covered(start, emit)
        try:
            info = self._host.load(cancel=cancel)
        except Cancelled:
            return self._stopped(start)
        n_ctx = info.n_ctx or self._settings.context_size
        guard = LoopGuard()
        attributed = 0  # characters of the streamed text attributed so far
        attributor: Attributor | None = None  # for the prompt being answered

        def collect(text: str) -> None:
            nonlocal attributed
            if guard.cut is not None:
                return  # tokens already on their way after the stop
            if guard.feed(text):
                self._host.stop()  # ends generate() within 0.5 s; the text before is kept
                return
            emit(text)
            if on_attribution is not None and attributor is not None:
                done = _complete_sentences(guard.text)
                if done > attributed:
                    attributed = done
                    # Words only while streaming: no embedding on this path. Measured
                    # 16 ms a sentence with six 1,500-character passages (33 ms when the
                    # passages were split again each time: hence one Attributor).
                    partial = attributor(guard.text[:done])
                    on_attribution(PartialAttribution(partial.text, partial.sentences, done))

        while True:
            prompt = build_prompt(
                question,
                hits,
                history,
                count=self._host.count_tokens_batch,
                n_ctx=n_ctx,
                max_tokens=self._settings.max_tokens,
                system=system_prompt(self._settings.instructions),
                **({"layout": self._layout} if self._layout else {}),
            )
            attributor = Attributor(prompt.sources, question=question)
            generate_at = time.perf_counter()
            try:
                timings = self._host.generate(
                    list(prompt.messages),
                    on_token=collect,
                    cancel=cancel,
                    max_tokens=prompt.answer_tokens,
                    temperature=self._settings.temperature,
                    repeat_penalty=self._settings.repeat_penalty,
                    stop=STOP_SEQUENCES,
                )
                break
            except ContextExceeded as exc:
                # A server that does not say its window names it when it refuses a prompt
                # (nothing was streamed yet): budget again with it, once.
                if exc.n_ctx >= n_ctx:
                    raise
                n_ctx = exc.n_ctx
        looped = guard.cut is not None
        user_stopped = timings.stopped and not looped
        attributed_at = time.perf_counter()
        attribution = attributor(guard.kept.strip(), embed=self._embed)
        attribution_s = time.perf_counter() - attributed_at
        shown, provided = _sources(attribution, prompt.sources)
        first = timings.first_token_s
        return Answer(
            text=attribution.text,
            sources=shown,
            model=info.name,
            gpu_layers=info.gpu_layers,
            total_layers=info.plan.total_layers,
            timings=Timings(
                first_token_s=None if first is None else generate_at - start + first,
                tokens=timings.tokens,
                tokens_per_s=timings.tokens_per_s,
                total_s=time.perf_counter() - start,
                stopped=user_stopped,
                attribution_s=attribution_s,
                interrupted=timings.interrupted,
            ),
            covered=True,
            provided=provided,
            stopped=user_stopped,
            sentences=attribution.sentences,
            loop_cut=looped,
            interrupted=timings.interrupted,
        )

    def _not_covered(self, start: float, emit: Callable[[str], None]) -> Answer:
        """The fixed reply, streamed like model tokens so the UI has a single path."""
        first = None
        pieces = _PIECES.findall(NOT_COVERED)
        for piece in pieces:
            emit(piece)
            first = first or time.perf_counter() - start
        return Answer(
            text=NOT_COVERED,
            sources=(),
            model=self._model_name(),
            gpu_layers=self._host.info.gpu_layers if self._host.info else 0,
            total_layers=self._host.info.plan.total_layers if self._host.info else 0,
            timings=Timings(first, len(pieces), None, time.perf_counter() - start),
            covered=False,
        )

    def _stopped(self, start: float) -> Answer:
        elapsed = time.perf_counter() - start
        return Answer(
            text="",
            sources=(),
            model=self._model_name(),
            gpu_layers=0,
            total_layers=0,
            timings=Timings(None, 0, None, elapsed, stopped=True),
            covered=True,
            stopped=True,
        )

    def _model_name(self) -> str:
        info = self._host.info
        if info is not None:
            return info.name
        try:
            return Path(self._host.model_path()).stem
        except Exception:
            return "no model"


def _complete_sentences(text: str) -> int:
    """End of the last sentence of `text` that another one follows (0 if none): the last
    one may still grow. Split as attribution splits (`sentences`)."""
    spans = split_sentences(text)
    return spans[-2][1] if len(spans) > 1 else 0


def _sources(
    attribution: Attribution, given: Sequence[Source]
) -> tuple[tuple[Source, ...], tuple[Source, ...]]:
    """(sources to show, every source given with `cited` set).

    Shown: the cited ones in number order, or every one given (all cited=False, which the
    UI shows as "not cited") when no sentence is supported.
    """
    cited = set(attribution.cited)
    flagged = tuple(replace(s, cited=s.number in cited) for s in given)
    return tuple(s for s in flagged if s.cited) or flagged, flagged


def _ignore(_text: str) -> None:
    pass
