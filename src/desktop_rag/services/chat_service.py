"""Answers questions on the chat thread, which owns the loaded model.

Every request gets an id. Tokens, answers and failures come back tagged with it, and the
service forgets a request the moment it is stopped, so late tokens of a stopped answer
never reach the next one. Stop sets the request's cancel event and tells the model host
to stop (both safe from the UI thread), and reports `stopped` at once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot

from desktop_rag.core.llm.model_info import ModelInfo
from desktop_rag.core.rag.answers import Answer, PartialAttribution
from desktop_rag.core.settings import Settings
from desktop_rag.services import heap
from desktop_rag.services.engine import ChatEngine, ChatEngineFactory
from desktop_rag.services.errors import describe_error
from desktop_rag.services.token_coalescer import TokenCoalescer
from desktop_rag.services.worker import JobContext, TaskRunner

log = logging.getLogger(__name__)


class ChatService(QObject):
    model_loading = Signal()
    model_loaded = Signal(object)  # ModelInfo
    model_progress = Signal(float)  # 0.0 to 1.0 while loading
    model_failed = Signal(str)
    token = Signal(int, str)  # request id, text (several tokens joined)
    attributed = Signal(int, object)  # request id, PartialAttribution (after its tokens)
    answered = Signal(int, object)  # request id, Answer
    failed = Signal(int, str)  # request id, message for a person
    stopped = Signal(int)  # request id

    def __init__(self, engine_factory: ChatEngineFactory, parent: QObject | None = None):
        super().__init__(parent)
        self._factory = engine_factory
        self._engine: ChatEngine | None = None  # created and used on the chat thread only
        self._runner = TaskRunner("chat", self)
        self._runner.progress.connect(self._on_runner_progress)
        self._runner.finished.connect(self._on_runner_finished)
        self._runner.failed.connect(self._on_runner_failed)
        self._load_id: int | None = None
        self._load_cancelled = False
        self._active: int | None = None
        self._model_info: ModelInfo | None = None

    @property
    def model_info(self) -> ModelInfo | None:
        return self._model_info

    @property
    def active_request(self) -> int | None:
        return self._active

    # Requests (UI thread).

    def load_model(self) -> int:
        """Load (or reload, after a settings change) the chat model in the background."""
        self._model_info = None
        self._load_cancelled = False
        self.model_loading.emit()
        self._load_id = self._runner.submit(self._load_job)
        return self._load_id

    def cancel_load(self) -> None:
        """Stop loading the model; `model_failed` follows once the load has stopped."""
        if self._load_id is not None:
            self._load_cancelled = True
            self._runner.cancel(self._load_id)

    def set_engine_factory(self, factory: ChatEngineFactory) -> None:
        """New settings: the next load builds a new engine (the old one closes there)."""
        self._factory = factory
        self._runner.submit(self._close_job)

    def reconfigure(self, factory: ChatEngineFactory, settings: Settings) -> None:
        """Settings that shape answers only: the loaded model stays, the next answer uses them."""
        self._factory = factory
        self._runner.submit(functools.partial(self._reconfigure_job, settings))

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        folders: Sequence[str] = (),
    ) -> int:
        """Answer from the passages under `folders` (none: every watched folder)."""
        if self._active is not None:
            self.stop()
        request_id = self._runner.submit(
            _AskJob(self, question, tuple(history), tuple(folders))  # callable, not a lambda
        )
        self._active = request_id
        return request_id

    def stop(self) -> None:
        request_id, self._active = self._active, None
        if request_id is None:
            return
        self._runner.cancel(request_id)
        engine = self._engine
        if engine is not None:
            engine.stop()
        self.stopped.emit(request_id)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self.stop()
        engine = self._engine
        if engine is not None:
            engine.stop()
        stopped = self._runner.shutdown(timeout_ms)
        if stopped:  # the thread is gone, so closing here cannot race it
            self._close_job(None)
        return stopped

    # Jobs (chat thread).

    def _ensure_engine(self) -> ChatEngine:
        if self._engine is None:
            self._engine = self._factory()
        return self._engine

    def _load_job(self, ctx: JobContext) -> ModelInfo:
        try:
            return self._ensure_engine().load(ctx.cancel, on_progress=ctx.progress)
        finally:
            heap.settle_after_load()

    def _reconfigure_job(self, settings: Settings, ctx: JobContext) -> None:
        if self._engine is not None:
            self._engine.reconfigure(settings)

    def _close_job(self, ctx: JobContext | None) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    # Results (UI thread).

    @Slot(int, object)
    def _on_runner_progress(self, request_id: int, value: float | str | PartialAttribution) -> None:
        """A load reports fractions; a question, text and attributions (`_AskJob`)."""
        if request_id == self._load_id:
            if isinstance(value, int | float):
                self.model_progress.emit(float(value))
        elif request_id == self._active:
            if isinstance(value, str):
                self.token.emit(request_id, value)
            else:
                self.attributed.emit(request_id, value)

    @Slot(int, object)
    def _on_runner_finished(self, request_id: int, result: ModelInfo | Answer | None) -> None:
        """A load returns `ModelInfo`; a question its `Answer` (None only when it was
        cancelled before it started, and only `stop`, which forgets it first, cancels)."""
        if request_id == self._load_id:
            self._load_id = None
            if isinstance(result, ModelInfo):
                self._model_info = result
                self.model_loaded.emit(result)
        elif request_id == self._active:
            self._active = None
            self.answered.emit(request_id, result)

    @Slot(int, object)
    def _on_runner_failed(self, request_id: int, exc: BaseException) -> None:
        message = describe_error(exc)
        if request_id == self._load_id:
            self._load_id = None
            if self._load_cancelled:
                message = "loading was cancelled"
            self.model_failed.emit(message)
        elif request_id == self._active:
            self._active = None
            self.failed.emit(request_id, message)


class _AskJob:
    """One question, run on the chat thread; tokens leave through the coalescer."""

    def __init__(
        self,
        service: ChatService,
        question: str,
        history: tuple[tuple[str, str], ...],
        folders: tuple[str, ...],
    ):
        self.service = service
        self.question = question
        self.history = history
        self.folders = folders

    def __call__(self, ctx: JobContext) -> Answer | None:
        if ctx.cancelled:
            return None
        engine = self.service._ensure_engine()
        coalescer = TokenCoalescer(ctx.progress)

        def attributed(partial: PartialAttribution) -> None:
            coalescer.flush()  # its tokens go first: the view applies it to text it has
            ctx.progress(partial)

        try:
            return engine.ask(
                self.question,
                self.history,
                coalescer.add,
                ctx.cancel,
                self.folders,
                on_attribution=attributed,
            )
        finally:
            coalescer.flush()
