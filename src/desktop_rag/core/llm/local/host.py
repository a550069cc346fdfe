"""`ModelHost`: the one owner of the loaded chat model, which lives in a child process.

One caller at a time (a lock serialises calls); `stop()` may come from any thread. The
model stays loaded between questions. A stop that the child does not answer within 0.3 s
(it is inside llama.cpp's prompt evaluation) kills the child; a crashed or killed child is
replaced on the next call, which reloads the model then.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop_rag.core.errors import ModelError
from desktop_rag.core.llm.gpu.fit import OFF_REASON, FitPlan, cpu_reason, fewer_layers, plan_fit
from desktop_rag.core.llm.gpu.probe import GpuProbe, probe_gpus
from desktop_rag.core.llm.hosts import Cancelled
from desktop_rag.core.llm.local import worker
from desktop_rag.core.llm.local.child import ChildError, ChildProcess, read_oom_kills
from desktop_rag.core.llm.local.cpu_features import build_features, cpu_features
from desktop_rag.core.llm.local.exit_cause import ModelCrash, load_error, unsupported_cpu
from desktop_rag.core.llm.model.files import check_model_file, model_info
from desktop_rag.core.llm.model.gguf_info import GgufInfo, read_gguf_info
from desktop_rag.core.llm.model.lora import LoraError, check_adapter, llama_refusal
from desktop_rag.core.llm.model_info import ModelInfo, Timings
from desktop_rag.core.paths import default_chat_model
from desktop_rag.core.settings import LOCAL_MODEL_FIELDS, Settings

STOP_GRACE_S = 0.3

__all__ = ["Cancelled", "ModelHost"]
log = logging.getLogger(__name__)


class ModelHost:
    def __init__(
        self,
        settings: Settings,
        *,
        log_dir: Path | None = None,
        backend: str = worker.DEFAULT_BACKEND,
        probe: Callable[[], GpuProbe] = probe_gpus,
        cpu: Callable[[], frozenset[str] | None] | None = None,
        oom_kills: Callable[[], int | None] = read_oom_kills,
    ):
        """`backend`, `probe`, `cpu` and `oom_kills` are seams for tests: the model code run
        in the child, the GPU probe, this CPU's features and the kernel's OOM-kill count."""
        self._settings = settings
        self._cpu_features = cpu or cpu_features
        self._oom_kills = oom_kills
        self._backend = backend
        self._probe = probe
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._child: ChildProcess | None = None
        self._runtime: dict[str, Any] = {}
        self._info: ModelInfo | None = None
        self._model_path: str | None = None  # chosen with load(); None = from settings
        self._headers: dict[tuple[str, int, int], GgufInfo] = {}
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self._log_path, self._own_log = log_dir / "model.log", False
        else:
            fd, name = tempfile.mkstemp(prefix="desktop-rag-model-", suffix=".log")
            os.close(fd)
            self._log_path, self._own_log = Path(name), True

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def info(self) -> ModelInfo | None:
        """The loaded model, or None (not loaded yet, or unloaded after a crash or stop)."""
        return self._info

    @property
    def runtime(self) -> dict[str, Any]:
        """The last model process's greeting: llama-cpp-python `version`, `gpu_offload`
        (bool) and `system_info` (llama.cpp's build features); empty if none started."""
        return dict(self._runtime)

    @property
    def child_pid(self) -> int | None:
        child = self._child
        return child.pid if child is not None and child.alive() else None

    def model_path(self) -> str:
        """The model the next load uses: the one chosen with load(), else Settings, else SmolLM2."""
        if self._model_path:
            return self._model_path
        if self._settings.chat_model:
            return str(Path(self._settings.chat_model).expanduser().resolve())
        try:
            return str(default_chat_model())
        except FileNotFoundError as exc:
            raise ModelError(str(exc)) from exc

    def reconfigure(self, settings: Settings) -> None:
        """New settings; the model is reloaded on next use if they change how it loads."""
        with self._lock:
            old, self._settings = self._settings, settings
            if old.chat_model != settings.chat_model:
                self._model_path = None
            if any(getattr(old, f) != getattr(settings, f) for f in LOCAL_MODEL_FIELDS):
                self._unload()

    def start(self) -> dict[str, Any]:
        """Start the model process without loading a model; returns its greeting (`runtime`).

        Raises ModelError (a `ModelCrash` if the process dies at start, e.g. SIGILL)."""
        with self._lock:
            self._stop.clear()
            self._ensure_child(None)
            return self.runtime

    def load(
        self,
        model_path: str | None = None,
        *,
        cancel: threading.Event | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> ModelInfo:
        """Load a model (None = the configured one), unloading the old one first.

        `on_progress` gets llama.cpp's loading progress, 0.0 to 1.0, in whole percents.
        """
        with self._lock:
            self._stop.clear()
            if model_path is not None:
                self._model_path = str(Path(model_path).expanduser().resolve())
            return self._ensure_loaded(cancel, on_progress)

    def generate(
        self,
        messages: list[dict[str, str]],
        *,
        on_token: Callable[[str], None],
        cancel: threading.Event | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        repeat_penalty: float | None = None,
        stop: Sequence[str] = (),
    ) -> Timings:
        """Stream a chat completion to `on_token`; returns within 0.5 s of stop or cancel.

        `repeat_penalty`: llama.cpp's penalty on recently generated tokens (1.0: none).
        `stop`: strings that end the answer where they start (they are not streamed).
        """
        with self._lock:
            start = time.perf_counter()
            self._stop.clear()
            try:
                self._ensure_loaded(cancel)
            except Cancelled:
                return Timings(None, 0, None, time.perf_counter() - start, stopped=True)
            child = self._child
            assert child is not None
            if self._stop.is_set() or (cancel is not None and cancel.is_set()):
                return Timings(None, 0, None, time.perf_counter() - start, stopped=True)
            child.stop_flag.value = False
            request = {
                "messages": messages,
                "max_tokens": max_tokens or self._settings.max_tokens,
                "temperature": self._settings.temperature if temperature is None else temperature,
                "seed": seed,
                "repeat_penalty": 1.0 if repeat_penalty is None else repeat_penalty,
                "stop": list(stop),
            }
            child.send("generate", request)
            first = last = None
            tokens, stopped = 0, False
            try:
                while True:
                    msg = child.recv(cancel, self._stop, during="generating an answer")
                    if msg[0] == "token":
                        last = time.perf_counter()
                        first = first or last
                        tokens += 1
                        on_token(msg[1])
                    elif msg[0] == "done":
                        stopped = msg[1]["stopped"]
                        break
                    else:
                        raise ModelError(f"generating an answer failed: {msg[2]}")
            except Cancelled:
                self._halt(child, STOP_GRACE_S)
                stopped = True
            except ModelError:
                self._forget_dead_child()
                raise
            except KeyboardInterrupt:
                self._halt(child, 0.0)  # Ctrl-C: the user wants out now
                raise
            except BaseException:
                self._halt(child, STOP_GRACE_S)
                raise
            return Timings.streamed(start, first, last, tokens, stopped=stopped)

    def count_tokens(self, text: str) -> int:
        return self.count_tokens_batch([text])[0]

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        """Token counts with the model's own tokenizer, one round trip for all texts."""
        with self._lock:
            self._stop.clear()
            self._ensure_loaded(None)
            return self._request("count", list(texts))

    def stop(self) -> None:
        """End the running generation or load (any thread); it returns within 0.5 s.

        A stop with nothing running is forgotten: each call starts with a clear flag. To
        cancel a question that may not have reached generate() yet, pass `cancel`.
        """
        self._stop.set()

    def close(self) -> None:
        self.stop()
        with self._lock:
            if self._child is not None:
                self._child.close()
            self._child, self._info = None, None
            if self._own_log:
                self._log_path.unlink(missing_ok=True)

    def arm_crash_for_test(
        self, sig: int = signal.SIGABRT, log_lines: tuple[str, ...] = ()
    ) -> None:
        """Test hook: right after its next generated token the child writes `log_lines` to
        the model log and dies by signal `sig` (SIGABRT: what llama.cpp does on GPU errors)."""
        with self._lock:
            self._ensure_loaded(None)
            self._request("arm_crash", {"signal": int(sig), "log": list(log_lines)})

    # Internals; callers hold the lock.

    def _request(
        self,
        op: str,
        payload: Any,
        cancel: threading.Event | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> Any:
        assert self._child is not None
        try:
            return self._child.request(op, payload, cancel, self._stop, on_progress)
        except ModelError:
            self._forget_dead_child()
            raise
        except Cancelled:
            self._halt(self._child, 0.0)
            raise

    def _ensure_loaded(
        self,
        cancel: threading.Event | None,
        on_progress: Callable[[float], None] | None = None,
    ) -> ModelInfo:
        path = self.model_path()
        child = self._child
        if self._info is not None and self._info.path == path and child and child.alive():
            return self._info
        self._unload()
        return self._load(path, cancel, on_progress)

    def _ensure_child(self, cancel: threading.Event | None) -> ChildProcess:
        if self._child is not None and self._child.alive():
            return self._child
        self._forget_dead_child()
        child = ChildProcess(self._log_path, self._backend, self._oom_kills, self._cpu_features)
        self._child = child
        try:
            child.wait_hello(cancel, self._stop)
        except Cancelled:
            self._halt(child, 0.0)
            raise
        except ModelError:
            self._forget_dead_child()
            raise
        self._runtime = dict(child.hello)
        info = child.hello.get("system_info")
        refusal = isinstance(info, str) and unsupported_cpu(
            build_features(info), self._cpu_features(), frozen=bool(getattr(sys, "frozen", False))
        )
        if refusal:
            # Caught before the first instruction the CPU lacks: no crash, a reason instead.
            child.close()
            self._child = None
            raise refusal
        return child

    def _unload(self) -> None:
        if self._info is not None and self._child is not None and self._child.alive():
            self._request("unload", None)
        self._info = None

    def _halt(self, child: ChildProcess, grace_s: float) -> None:
        child.halt(grace_s)
        if not child.alive():
            self._forget_dead_child()

    def _forget_dead_child(self) -> None:
        if self._child is not None and not self._child.alive():
            self._child.kill()
            self._child = None
            self._info = None

    def _load(
        self,
        path: str,
        cancel: threading.Event | None,
        on_progress: Callable[[float], None] | None = None,
    ) -> ModelInfo:
        check_model_file(path)
        child = self._ensure_child(cancel)
        plan, header = self._plan(path, bool(child.hello.get("gpu_offload")))
        settings = self._settings
        lora, lora_error = self._checked_adapter(path)
        while True:
            request = {
                "path": path,
                "n_ctx": settings.context_size,
                "n_gpu_layers": plan.gpu_layers if isinstance(plan, FitPlan) else 0,
                "n_threads": settings.threads,
                "lora_path": lora,
                "lora_scale": settings.lora_scale,
            }
            try:
                result = self._request("load", request, cancel, on_progress)
                break
            except (ChildError, ModelError) as exc:
                if lora is not None and _adapter_failed(exc):
                    # The checks passed but llama.cpp refused the adapter after all (or died
                    # applying it): the model answers without it, and the reason is kept.
                    tail = self._child.log_tail(50) if self._child else []
                    lora_error = str(llama_refusal(lora, str(exc), tail))
                    log.warning("LoRA adapter not applied: %s", lora_error)
                    lora = None
                    self._ensure_child(cancel)
                    continue
                retry = None
                # Fewer GPU layers help with memory only, not with a crash of another kind.
                memory_or_load = not isinstance(exc, ModelCrash) or exc.cause == "memory"
                if isinstance(plan, FitPlan) and memory_or_load:
                    shape = header.shape() if header else None
                    retry = fewer_layers(plan, shape, settings.context_size)
                if retry is None:
                    raise load_error(
                        path, exc, self._child.log_tail() if self._child else []
                    ) from exc
                plan = retry
                self._ensure_child(cancel)
        hello = self._child.hello if self._child else {}
        self._info = replace(
            model_info(path, result, plan, hello),
            lora=lora,
            lora_scale=settings.lora_scale,
            lora_error=lora_error,
        )
        if self._info.chat_template_source == "fallback":
            log.warning(
                "%s has no chat template in its metadata (tokenizer.chat_template); "
                "using the ChatML template, answers may be odd",
                path,
            )
        return self._info

    def _checked_adapter(self, model_path: str) -> tuple[str | None, str | None]:
        """The adapter file to apply (resolved), and why the one in Settings is refused."""
        chosen = self._settings.lora_path
        if not chosen:
            return None, None
        lora = str(Path(chosen).expanduser().resolve())
        try:
            check_adapter(lora, model_path)
        except LoraError as exc:
            log.warning("LoRA adapter not applied: %s", exc)
            return None, str(exc)
        return lora, None

    def _plan(self, path: str, offload_supported: bool) -> tuple[FitPlan | str, GgufInfo | None]:
        """The fit plan, or just the reason when the GPU cannot be used at all.

        Reading the tensor table costs seconds for large vocabularies, so it is skipped when
        the answer is "CPU" anyway; the layer count then comes from llama.cpp after loading.
        """
        requested = self._settings.n_gpu_layers
        if requested == 0:
            return OFF_REASON, None
        probe = self._probe()
        reason = cpu_reason(probe, offload_supported)
        if reason is not None:
            return reason, None
        header = self._header(path)
        plan = plan_fit(
            header.shape(),
            n_ctx=self._settings.context_size,
            probe=probe,
            offload_supported=True,
            requested=requested,
        )
        return plan, header

    def _header(self, path: str) -> GgufInfo:
        stat = os.stat(path)
        key = (path, stat.st_size, stat.st_mtime_ns)
        if key not in self._headers:
            self._headers[key] = read_gguf_info(path)
        return self._headers[key]


def _adapter_failed(exc: Exception) -> bool:
    """llama-cpp-python's error for an adapter llama.cpp refused ("Failed to initialize LoRA
    adapter ...", "Failed to set LoRA adapter ..."), or a crash while loading with one."""
    if isinstance(exc, ChildError):
        return "lora adapter" in exc.message.lower()
    return isinstance(exc, ModelCrash) and exc.cause != "memory"
