"""The RAG pipeline: retrieve, judge relevance, build the prompt, stream the answer, cite.

Qt-free and meant for one caller at a time (the UI calls it from its model worker thread).
`cancel`, set from any thread, ends the answer within 0.5 s.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop_rag.core.llm.child import Cancelled
from desktop_rag.core.llm.citations import attach_sources
from desktop_rag.core.llm.host import ModelHost
from desktop_rag.core.llm.prompt import build_prompt, system_prompt
from desktop_rag.core.llm.records import Answer, Timings, Turn
from desktop_rag.core.llm.relevance import relevant_hits
from desktop_rag.core.records import Hit
from desktop_rag.core.settings import Settings

NOT_COVERED = "The indexed documents do not cover this question, so I cannot answer it."
_PIECES = re.compile(r"\S+\s*|\s+")

Search = Callable[[str, int, Sequence[str]], list[Hit]]  # query, k, folders (none: all)


class Answerer:
    def __init__(self, search: Search, host: ModelHost, settings: Settings):
        self._search = search
        self._host = host
        self._settings = settings

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
    ) -> Answer:
        start = time.perf_counter()
        emit = on_token or _ignore
        question = question.strip()
        # A follow-up ("and what does it run on?") rarely names its subject; the previous
        # question usually does, so both go to retrieval and to the relevance check.
        query = f"{history[-1].question} {question}" if history else question
        hits = relevant_hits(query, self._search(query, self._settings.top_k, folders))
        if not hits:
            return self._not_covered(start, emit)
        try:
            info = self._host.load(cancel=cancel)
        except Cancelled:
            return self._stopped(start)
        prompt = build_prompt(
            question,
            hits,
            history,
            count=self._host.count_tokens_batch,
            n_ctx=info.n_ctx or self._settings.context_size,
            max_tokens=self._settings.max_tokens,
            system=system_prompt(self._settings.instructions),
        )
        pieces: list[str] = []

        def collect(text: str) -> None:
            pieces.append(text)
            emit(text)

        generate_at = time.perf_counter()
        timings = self._host.generate(
            list(prompt.messages),
            on_token=collect,
            cancel=cancel,
            max_tokens=prompt.answer_tokens,
            temperature=self._settings.temperature,
        )
        text, shown, provided = attach_sources("".join(pieces).strip(), prompt.sources)
        first = timings.first_token_s
        return Answer(
            text=text,
            sources=shown,
            model=info.name,
            gpu_layers=info.gpu_layers,
            total_layers=info.plan.total_layers,
            timings=Timings(
                first_token_s=None if first is None else generate_at - start + first,
                tokens=timings.tokens,
                tokens_per_s=timings.tokens_per_s,
                total_s=time.perf_counter() - start,
                stopped=timings.stopped,
            ),
            covered=True,
            provided=provided,
            stopped=timings.stopped,
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


def _ignore(_text: str) -> None:
    pass
