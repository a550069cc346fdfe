"""Builds the app's services once, with the real engine or with fakes (tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop_rag.core.folders import FolderStore
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.settings import Settings
from desktop_rag.services import heap
from desktop_rag.services.chat_service import ChatService
from desktop_rag.services.conversation_service import ConversationService
from desktop_rag.services.engine import ChatEngineFactory, IndexFactory
from desktop_rag.services.folder_service import FolderService
from desktop_rag.services.index_service import IndexService
from desktop_rag.services.local_engine import chat_engine_factory, knowledge_base_factory
from desktop_rag.services.model_service import ModelService
from desktop_rag.services.watch_service import WatchService

IndexFactoryFor = Callable[[Settings], IndexFactory]
ChatFactoryFor = Callable[[Settings], ChatEngineFactory]

# Settings whose change needs the chat model loaded again, ones the next answer simply
# uses, and ones that need a reopened knowledge base.
CHAT_FIELDS = ("chat_model", "lora_path", "n_gpu_layers", "context_size", "threads", "embedder")
ANSWER_FIELDS = ("temperature", "max_tokens", "top_k", "instructions")
INDEX_FIELDS = (
    "embedder",
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
    watch: WatchService
    folders: FolderService
    models: ModelService
    index_factory_for: IndexFactoryFor
    chat_factory_for: ChatFactoryFor
    _shut_down: bool = False

    def start(self) -> None:
        """Begin the background work: open the index, load the model, watch folders."""
        heap.pause_collection()  # until the model load settles it (see services.heap)
        self.index.open()
        self.chat.load_model()
        self.folders.start()

    def apply_settings(self, new: Settings, *, rebuild: bool = False) -> None:
        old, self.settings = self.settings, new
        if any(getattr(old, f) != getattr(new, f) for f in CHAT_FIELDS):
            self.chat.set_engine_factory(self.chat_factory_for(new))
            self.chat.load_model()
        elif any(getattr(old, f) != getattr(new, f) for f in ANSWER_FIELDS):
            self.chat.reconfigure(self.chat_factory_for(new), new)
        ignore_changed = old.ignore_patterns != new.ignore_patterns
        if ignore_changed:
            self.watch.set_ignore_patterns(new.ignore_patterns)
        if rebuild:
            self.index.rebuild(self.index_factory_for(new), new.ignore_patterns)
            self.folders.reindex_all()
        elif any(getattr(old, f) != getattr(new, f) for f in INDEX_FIELDS):
            self.index.reconfigure(self.index_factory_for(new), new.ignore_patterns)
            if ignore_changed:  # newly skipped files leave the index, newly allowed ones join
                self.folders.reindex_all()

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
    watch_quiet_s: float = 0.7,
) -> AppServices:
    """The real engine unless factories are given (`for(settings) -> factory`)."""
    paths.ensure()
    index_for = index_factory_for or _real_index_for(paths)
    chat_for = chat_factory_for or _real_chat_for(paths)
    index = IndexService(
        index_for(settings), paths.index_dir, paths.state_db, settings.ignore_patterns
    )
    chat = ChatService(chat_for(settings))
    conversations = ConversationService(paths.history_db, chat)
    watch = WatchService(settings.ignore_patterns, quiet_s=watch_quiet_s)
    folders = FolderService(FolderStore(paths.state_db), index, watch)
    return AppServices(
        paths,
        settings,
        index,
        chat,
        conversations,
        watch,
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
