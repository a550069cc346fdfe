"""The real chat engine: the model host (a child process here, or a chat server elsewhere,
as Settings say) and the answerer around it.

Created on the chat thread; the imports of llama_cpp helpers, torch and lancedb happen
there, after the window is up. Search uses a knowledge base instance of its own: the
index thread's instance is busy (and locked) for a whole indexing run, while LanceDB lets
a second reader see every committed write at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from desktop_rag.core.llm.hosts import ChatHost, make_host
from desktop_rag.core.llm.model_info import ModelInfo
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.rag.answers import Answer, PartialAttribution
from desktop_rag.core.settings import Settings
from desktop_rag.services.engine import ChatEngineFactory

if TYPE_CHECKING:  # torch, LanceDB: imported on the chat and index threads, on first use
    from desktop_rag.core.knowledge_base import KnowledgeBase
    from desktop_rag.core.rag.answerer import Answerer

log = logging.getLogger(__name__)


class LocalChatEngine:
    def __init__(self, paths: AppPaths, settings: Settings):
        self.paths = paths
        self.settings = settings
        self._host: ChatHost | None = None
        self._kb: KnowledgeBase | None = None
        self._answerer: Answerer | None = None

    @property
    def knowledge_base(self) -> KnowledgeBase | None:
        """The knowledge base answers search (None until the first load or question)."""
        return self._kb

    def _parts(self) -> tuple[ChatHost, Answerer, KnowledgeBase]:
        if self._host is None:
            self._host = make_host(self.settings, self.paths)
        if self._answerer is None:
            from desktop_rag.core.knowledge_base import KnowledgeBase
            from desktop_rag.core.rag.answerer import Answerer

            self._kb = KnowledgeBase(self.paths, self.settings)
            self._answerer = Answerer(
                self._kb.search, self._host, self.settings, embed=self._kb.embed_texts
            )
        assert self._kb is not None  # built with the answerer
        return self._host, self._answerer, self._kb

    def load(
        self,
        cancel: threading.Event | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> ModelInfo:
        host, _answerer, kb = self._parts()
        info = host.load(cancel=cancel, on_progress=on_progress)
        try:  # load the query embedder now, not in the middle of the first question
            kb.embedder.embed(["warm up"])
        except Exception:
            log.info("could not warm up the query embedder", exc_info=True)
        return info

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        on_token: Callable[[str], None],
        cancel: threading.Event,
        folders: Sequence[str] = (),
        on_attribution: Callable[[PartialAttribution], None] | None = None,
    ) -> Answer:
        from desktop_rag.core.rag.answers import Turn

        _host, answerer, _kb = self._parts()
        turns = [Turn(q, a) for q, a in history]
        return answerer.ask(
            question,
            history=turns,
            on_token=on_token,
            cancel=cancel,
            folders=folders,
            on_attribution=on_attribution,
        )

    def reconfigure(self, settings: Settings) -> None:
        """Settings that change answers, not the loaded model: no reload."""
        self.settings = settings
        if self._host is not None:
            self._host.reconfigure(settings)
        if self._answerer is not None:
            self._answerer.reconfigure(settings)

    def stop(self) -> None:
        host = self._host
        if host is not None:
            host.stop()

    def close(self) -> None:
        host, self._host, self._answerer = self._host, None, None
        kb, self._kb = self._kb, None
        if host is not None:
            host.close()
        if kb is not None:
            kb.close()


def knowledge_base_factory(paths: AppPaths, settings: Settings) -> Callable[[], KnowledgeBase]:
    """The index thread's knowledge base, built there on first use."""
    return _KnowledgeBaseFactory(paths, settings)


def chat_engine_factory(paths: AppPaths, settings: Settings) -> ChatEngineFactory:
    return _ChatEngineFactory(paths, settings)


class _KnowledgeBaseFactory:
    def __init__(self, paths: AppPaths, settings: Settings):
        self.paths, self.settings = paths, settings

    def __call__(self) -> KnowledgeBase:
        from desktop_rag.core.knowledge_base import KnowledgeBase

        return KnowledgeBase(self.paths, self.settings)


class _ChatEngineFactory:
    def __init__(self, paths: AppPaths, settings: Settings):
        self.paths, self.settings = paths, settings

    def __call__(self) -> LocalChatEngine:
        return LocalChatEngine(self.paths, self.settings)
