"""Looks inside a GGUF file for the settings dialog: size, quantization, layers, GPU plan.

Reading a header takes a couple of seconds for large vocabularies, so it runs on a worker
thread of its own; the loaded model itself stays with the chat service.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from desktop_rag.core.settings import Settings
from desktop_rag.services.errors import describe_error
from desktop_rag.services.worker import JobContext, TaskRunner


@dataclass(frozen=True)
class ModelPreview:
    path: str
    size_bytes: int
    quantization: str
    n_layers: int
    n_ctx_train: int
    architecture: str
    plan: object  # core.llm.gpu_fit.FitPlan for the settings being edited


class ModelService(QObject):
    inspected = Signal(int, object)  # request id, ModelPreview
    inspect_failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._runner = TaskRunner("model-info", self)
        self._runner.finished.connect(self._on_runner_finished)
        self._runner.failed.connect(self._on_runner_failed)

    def inspect(self, path: str, settings: Settings) -> int:
        return self._runner.submit(functools.partial(_inspect, path, settings))

    def shutdown(self, timeout_ms: int = 30000) -> bool:  # a header read cannot be cut short
        return self._runner.shutdown(timeout_ms)

    @Slot(int, object)
    def _on_runner_finished(self, request_id: int, preview: object) -> None:
        self.inspected.emit(request_id, preview)

    @Slot(int, object)
    def _on_runner_failed(self, request_id: int, exc: object) -> None:
        self.inspect_failed.emit(request_id, describe_error(exc))


def _inspect(path: str, settings: Settings, ctx: JobContext) -> ModelPreview:
    from desktop_rag.core.llm.gguf_info import read_gguf_info
    from desktop_rag.core.llm.gpu_fit import plan_fit
    from desktop_rag.core.llm.gpu_probe import llama_gpu_offload_supported, probe_gpus

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
