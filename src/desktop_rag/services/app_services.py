"""Builds the app's services once, with the real engine or with fakes (tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from desktop_rag.core.paths import AppPaths
from desktop_rag.core.settings import LOCAL_MODEL_FIELDS, SERVER_MODEL_FIELDS, Settings
from desktop_rag.core.sync.folders import FolderStore
from desktop_rag.services import heap
from desktop_rag.services.chat_service import ChatService
from desktop_rag.services.conversation_service import ConversationService
from desktop_rag.services.engine import ChatEngineFactory, IndexFactory
from desktop_rag.services.folder_service import FolderService
from desktop_rag.services.index_service import IndexService
from desktop_rag.services.local_engine import chat_engine_factory, knowledge_base_factory
from desktop_rag.services.model_service import ModelService

if TYPE_CHECKING:  # imports watchdog and LanceDB: the window shows before they load
    from desktop_rag.core.sync.loop import WatchTiming

IndexFactoryFor = Callable[[Settings], IndexFactory]
ChatFactoryFor = Callable[[Settings], ChatEngineFactory]

# Settings whose change needs the chat model loaded again, ones the next answer simply
# uses, and ones that need a reopened knowledge base.
CHAT_FIELDS = (
    *LOCAL_MODEL_FIELDS,
    *SERVER_MODEL_FIELDS,
    "model_location",
    "embedder",
    "embedder_backend",
)
ANSWER_FIELDS = ("temperature", "repeat_penalty", "max_tokens", "top_k", "instructions")
INDEX_FIELDS = (
    "embedder",
    "embedder_backend",
    "chunk_tokens",
    "chunk_overlap",
    "ignore_patterns",
    "max_file_mb",
    "pdf_timeout_s",
    "pdf_memory_mb",
)


@dataclass
class AppServices:
    paths: AppPaths
    settings: Settings
    index: IndexService
    chat: ChatService
    conversations: ConversationService
    folders: FolderService
    models: ModelService
    index_factory_for: IndexFactoryFor
    chat_factory_for: ChatFactoryFor
    _shut_down: bool = False
    _key_requests: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.models.key_stored.connect(self._on_key_stored)

    def start(self) -> None:
        """Begin the background work: open the index, load the model, watch folders."""
        heap.pause_collection()  # until the model load settles it (see services.heap)
        self.folders.start()
        self.index.open()
        self.chat.load_model()

    def apply_settings(self, new: Settings, *, rebuild: bool = False) -> None:
        old, self.settings = self.settings, new
        if any(getattr(old, f) != getattr(new, f) for f in CHAT_FIELDS):
            self.chat.set_engine_factory(self.chat_factory_for(new))
            self.chat.load_model()
        elif any(getattr(old, f) != getattr(new, f) for f in ANSWER_FIELDS):
            self.chat.reconfigure(self.chat_factory_for(new), new)
        if rebuild:
            self.index.rebuild(self.index_factory_for(new), new.ignore_patterns)
        elif any(getattr(old, f) != getattr(new, f) for f in INDEX_FIELDS):
            # New skip patterns re-sync every folder there: newly skipped files leave the
            # index, newly allowed ones join it.
            self.index.reconfigure(self.index_factory_for(new), new.ignore_patterns)

    def store_server_key(self, server_url: str, api_key: str) -> int:
        """Keep the chat server's API key ("" forgets it) on the model-info thread; a chat
        model on that server is connected again once it is kept."""
        request_id = self.models.store_key(server_url, api_key, self.paths.secrets_file)
        self._key_requests.add(request_id)
        return request_id

    def _on_key_stored(self, request_id: int, _where: str) -> None:
        if request_id in self._key_requests:
            self._key_requests.discard(request_id)
            if self.settings.model_location == "server":
                self.chat.set_engine_factory(self.chat_factory_for(self.settings))
                self.chat.load_model()

    def shutdown(self) -> bool:
        """Stop every thread, the model child and watchdog; True when all stopped in time."""
        if self._shut_down:
            return True
        self._shut_down = True
        self.folders.stop()
        self.conversations.close()
        models_ok = self.models.shutdown()
        chat_ok = self.chat.shutdown()
        index_ok = self.index.shutdown()
        return chat_ok and index_ok and models_ok


def build_services(
    paths: AppPaths,
    settings: Settings,
    *,
    index_factory_for: IndexFactoryFor | None = None,
    chat_factory_for: ChatFactoryFor | None = None,
    timing: WatchTiming | None = None,
) -> AppServices:
    """The real engine unless factories are given (`for(settings) -> factory`); `timing`:
    the sync loop's debounce and check intervals (`core.sync.loop.WatchTiming`)."""
    paths.ensure()
    index_for = index_factory_for or _real_index_for(paths)
    chat_for = chat_factory_for or _real_chat_for(paths)
    index = IndexService(
        index_for(settings),
        paths.index_dir,
        paths.state_db,
        settings.ignore_patterns,
        timing=timing,
    )
    chat = ChatService(chat_for(settings))
    conversations = ConversationService(paths.history_db, chat)
    folders = FolderService(FolderStore(paths.state_db), index)
    return AppServices(
        paths,
        settings,
        index,
        chat,
        conversations,
        folders,
        ModelService(),
        index_for,
        chat_for,
    )


def _real_index_for(paths: AppPaths) -> IndexFactoryFor:
    def factory_for(settings: Settings) -> IndexFactory:
        return knowledge_base_factory(paths, settings)

    return factory_for


def _real_chat_for(paths: AppPaths) -> ChatFactoryFor:
    def factory_for(settings: Settings) -> ChatEngineFactory:
        return chat_engine_factory(paths, settings)

    return factory_for
