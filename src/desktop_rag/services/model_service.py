"""Work for the settings dialog off the UI thread: a look inside a GGUF file (size,
quantization, layers, GPU plan), a chat server's connection test, and keeping its API key.

Reading a header takes a couple of seconds for large vocabularies, a server may take seconds
to answer and a keyring may wait for its unlock prompt, so all of it runs on a worker thread
of its own; the loaded model itself stays with the chat service.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from desktop_rag.core.llm.gpu.fit import FitPlan
from desktop_rag.core.settings import Settings
from desktop_rag.services.errors import describe_error
from desktop_rag.services.worker import Job, JobContext, TaskRunner

if TYPE_CHECKING:  # imports openai and httpx: the job imports them, on the model-info thread
    from desktop_rag.core.llm.server.client import ServerInfo


@dataclass(frozen=True)
class ModelPreview:
    path: str
    size_bytes: int
    quantization: str
    n_layers: int
    n_ctx_train: int
    architecture: str
    plan: FitPlan  # for the settings being edited


class ModelService(QObject):
    inspected = Signal(int, object)  # request id, ModelPreview
    inspect_failed = Signal(int, str)
    server_tested = Signal(int, object)  # request id, core.llm.server.client.ServerInfo
    server_test_failed = Signal(int, str)  # request id, the cause in words
    key_stored = Signal(int, str)  # request id, where keys are kept ("the system keyring ...")
    key_store_failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._runner = TaskRunner("model-info", self)
        self._runner.finished.connect(self._on_runner_finished)
        self._runner.failed.connect(self._on_runner_failed)
        self._kinds: dict[int, str] = {}

    def inspect(self, path: str, settings: Settings) -> int:
        return self._submit("inspect", functools.partial(_inspect, path, settings))

    def test_server(self, url: str, model: str, api_key: str | None, secrets_file: Path) -> int:
        """Probe the server at `url`; `api_key` None uses the one kept for it, if any."""
        job = functools.partial(_test_server, url, model, api_key, secrets_file)
        return self._submit("server", job)

    def store_key(self, url: str, api_key: str, secrets_file: Path) -> int:
        """Keep `api_key` for the server at `url` ("" forgets it)."""
        return self._submit("key", functools.partial(_store_key, url, api_key, secrets_file))

    def _submit(self, kind: str, job: Job) -> int:
        request_id = self._runner.submit(job)
        self._kinds[request_id] = kind
        return request_id

    def shutdown(self, timeout_ms: int = 30000) -> bool:  # a header read cannot be cut short
        return self._runner.shutdown(timeout_ms)

    @Slot(int, object)
    def _on_runner_finished(self, request_id: int, result: ModelPreview | ServerInfo | str) -> None:
        kind = self._kinds.pop(request_id, "inspect")
        if kind == "server":
            self.server_tested.emit(request_id, result)
        elif kind == "key":
            self.key_stored.emit(request_id, str(result))
        else:
            self.inspected.emit(request_id, result)

    @Slot(int, object)
    def _on_runner_failed(self, request_id: int, exc: BaseException) -> None:
        kind = self._kinds.pop(request_id, "inspect")
        signal = {
            "server": self.server_test_failed,
            "key": self.key_store_failed,
        }.get(kind, self.inspect_failed)
        signal.emit(request_id, describe_error(exc))


def _inspect(path: str, settings: Settings, ctx: JobContext) -> ModelPreview:
    from desktop_rag.core.llm.gpu.fit import plan_fit
    from desktop_rag.core.llm.gpu.probe import llama_gpu_offload_supported, probe_gpus
    from desktop_rag.core.llm.model.gguf_info import read_gguf_info

    info = read_gguf_info(path)
    probe = probe_gpus()
    # Loading llama_cpp's library is only worth it when there is a GPU to offload to.
    offload = bool(probe.gpus) and llama_gpu_offload_supported()
    plan = plan_fit(
        info.shape(),
        n_ctx=settings.context_size,
        probe=probe,
        offload_supported=offload,
        requested=settings.n_gpu_layers,
    )
    return ModelPreview(
        path=info.path,
        size_bytes=info.size_bytes,
        quantization=info.file_type,
        n_layers=info.n_layer,
        n_ctx_train=info.n_ctx_train,
        architecture=info.architecture,
        plan=plan,
    )


def _test_server(
    url: str, model: str, api_key: str | None, secrets_file: Path, ctx: JobContext
) -> ServerInfo:
    from desktop_rag.core.llm.server.address import parse_server_url
    from desktop_rag.core.llm.server.client import ServerClient
    from desktop_rag.core.llm.server.secrets import api_key_for

    client = ServerClient(parse_server_url(url), api_key_for(url, secrets_file, api_key))
    try:
        return client.probe(model)
    finally:
        client.close()


def _store_key(url: str, api_key: str, secrets_file: Path, ctx: JobContext) -> str:
    from desktop_rag.core.llm.server.secrets import KeyStore

    store = KeyStore(secrets_file)
    store.set(url, api_key)
    return store.where
