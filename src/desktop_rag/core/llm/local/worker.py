"""Code that runs inside the model's child process (see `local/host.py` for the parent side).

The child owns the llama.cpp model. It reads one request at a time from its end of the
pipe and answers on the same pipe:

    parent -> child   ("load", {...}) ("unload", None) ("count", [text, ...])
                      ("generate", {...}) ("arm_crash", {...})
    child -> parent   ("hello", {...}) once at start, then for each request either
                      ("ok", result) or ("error", kind, message); "generate" first sends
                      ("token", text) per token, then ("done", {...}) instead of ("ok", ...);
                      "load" may send ("progress", fraction) before its answer.

While generating it checks the shared stop event between tokens. It cannot check inside
llama.cpp's prompt evaluation, which is why the parent kills it when it does not answer a
stop in time. Its stdout and stderr go to a log file: llama.cpp writes there, and the tail
explains a crash to the parent.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

DEFAULT_BACKEND = "desktop_rag.core.llm.local.worker:LlamaBackend"


def default_threads() -> int:
    """Threads for generation and prompt evaluation when Settings leave it automatic.

    llama-cpp-python defaults prompt evaluation to every logical CPU; its threads meet at a
    barrier per operation, so one thread preempted by another program (or an SMT sibling
    busy with its twin) stalls all of them. Measured on a busy 2-CPU machine: a 360-token
    prompt took 5.0 s with 1 thread and 13-15 s with 2. Half the logical CPUs (about the
    physical cores) for both, as llama.cpp's own tools do, avoids that.
    """
    return max(1, (os.cpu_count() or 2) // 2)


class LlamaBackend:
    """The real model: llama-cpp-python's `Llama`, one at a time."""

    def __init__(self) -> None:
        import llama_cpp

        self._llama_cpp = llama_cpp
        self._llm: Any = None
        self._progress_callback: Any = None

    def hello(self) -> dict[str, Any]:
        return {
            "version": self._llama_cpp.__version__,
            "gpu_offload": bool(self._llama_cpp.llama_supports_gpu_offload()),
            # ggml's compile-time feature list: reading it runs none of the build's code.
            "system_info": self._llama_cpp.llama_print_system_info().decode("utf-8", "replace"),
        }

    def load(
        self, req: dict[str, Any], on_progress: Callable[[float], None] | None = None
    ) -> dict[str, Any]:
        self.unload()
        threads = req.get("n_threads") or default_threads()
        with _load_progress(self._llama_cpp, on_progress) as callback:
            # The model's parameters keep a pointer to the callback: it must live as long.
            self._progress_callback = callback
            llm = self._llama_cpp.Llama(
                model_path=req["path"],
                n_ctx=req["n_ctx"],
                n_gpu_layers=req["n_gpu_layers"],
                n_threads=threads,
                n_threads_batch=threads,
                # llama-cpp-python applies the adapter with this scale when it creates the
                # context; a file llama.cpp refuses raises ValueError (see local/host.py).
                lora_path=req.get("lora_path"),
                lora_scale=req.get("lora_scale", 1.0),
                # chat_format=None: llama-cpp-python takes tokenizer.chat_template from the GGUF.
                chat_format=None,
                # Verbose goes to our log file; with verbose=False llama-cpp-python sends
                # load errors to /dev/null and a failure could not be explained.
                verbose=True,
            )
        if req.get("lora_path") and not getattr(llm, "_lora_adapter", True):
            # llama-cpp-python 0.3.36 tests the adapter pointer llama.cpp returns with
            # `is None`, but a refused adapter comes back as a NULL ctypes pointer, which is
            # not None: it goes on with no adapter and the first answer crashes (SIGSEGV).
            llm.close()
            raise ValueError(
                f"Failed to initialize LoRA adapter from lora path: {req['lora_path']}"
            )
        meta = dict(llm.metadata)
        template = "gguf" if "tokenizer.chat_template" in meta else "fallback"
        if template == "fallback":
            # llama-cpp-python would fall back to llama-2's format; chatml suits most
            # instruction-tuned models that forgot to ship a template.
            llm.chat_format = "chatml"
        self._llm = llm
        return {
            "metadata": meta,
            "chat_template_source": template,
            "chat_format": llm.chat_format,
            "n_ctx": llm.n_ctx(),
        }

    def unload(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    def count(self, texts: list[str]) -> list[int]:
        tokenize = self._llm.tokenize
        return [len(tokenize(t.encode("utf-8"), add_bos=False, special=False)) for t in texts]

    def stream(self, req: dict[str, Any]) -> Iterator[str]:
        extra = {"seed": req["seed"]} if req.get("seed") is not None else {}
        chunks = self._llm.create_chat_completion(
            messages=req["messages"],
            max_tokens=req["max_tokens"],
            temperature=req["temperature"],
            repeat_penalty=req.get("repeat_penalty", 1.0),
            stop=req.get("stop") or None,
            stream=True,
            **extra,
        )
        for chunk in chunks:
            text = chunk["choices"][0]["delta"].get("content")
            if text:
                yield text


def _redirect_output(log_path: str | None) -> None:
    if not log_path:
        return
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    # pythonw and windowed frozen apps have no stdout/stderr objects at all.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    # A file is block-buffered: a line printed before a failure must be in the log when the
    # parent reads it to explain the failure (and survive a crash right after).
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)


@contextlib.contextmanager
def _load_progress(llama_cpp: Any, on_progress: Callable[[float], None] | None) -> Iterator[Any]:
    """Report llama.cpp's loading progress (whole percents only: it calls per tensor).

    `Llama()` has no parameter for llama.cpp's `progress_callback`, so the default model
    parameters it starts from carry one while it runs. This process loads one model at a
    time, so swapping the module's function here races nothing.
    """
    if on_progress is None:
        yield None
        return
    lib = llama_cpp.llama_cpp
    last = [-1]

    def report(fraction: float, _user_data: Any) -> bool:
        percent = int(fraction * 100)
        if percent != last[0]:
            last[0] = percent
            on_progress(percent / 100)
        return True  # keep loading

    callback = lib.llama_progress_callback(report)
    default_params = lib.llama_model_default_params

    def params_with_progress():
        params = default_params()
        params.progress_callback = callback
        return params

    lib.llama_model_default_params = params_with_progress
    try:
        yield callback
    finally:
        lib.llama_model_default_params = default_params


def _crash_for_test(how: dict[str, Any]) -> None:
    """Test hook: die the way llama.cpp does (SIGABRT on a GPU error, SIGILL on a missing
    instruction ...), after writing the given lines to the model log."""
    for line in how.get("log", ()):
        print(line, flush=True)
    sig = int(how.get("signal", signal.SIGABRT))
    if sig == signal.SIGABRT:
        os.abort()
    os.kill(os.getpid(), sig)
    signal.pause()  # not reached: the default action of each test signal ends the process


def _send_progress(conn: Any, fraction: float) -> None:
    conn.send(("progress", fraction))


def _load_backend(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def main(conn: Any, stop: Any, log_path: str | None, backend_spec: str = DEFAULT_BACKEND) -> None:
    """Entry point of the child process (a `multiprocessing` spawn target)."""
    # Ctrl-C reaches the whole process group; the parent decides what stopping means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _redirect_output(log_path)
    backend = _load_backend(backend_spec)
    conn.send(("hello", backend.hello()))
    crash_armed: dict[str, Any] | None = None
    while True:
        try:
            op, payload = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        try:
            if op == "generate":
                tokens = 0
                stopped = False
                for text in backend.stream(payload):
                    conn.send(("token", text))
                    if crash_armed is not None:
                        _crash_for_test(crash_armed)
                    tokens += 1
                    if stop.value:
                        stopped = True
                        break
                conn.send(("done", {"tokens": tokens, "stopped": stopped}))
            elif op == "load":
                progress = functools.partial(_send_progress, conn)
                conn.send(("ok", backend.load(payload, on_progress=progress)))
            elif op == "unload":
                backend.unload()
                conn.send(("ok", None))
            elif op == "count":
                conn.send(("ok", backend.count(payload)))
            elif op == "arm_crash":
                crash_armed = payload
                conn.send(("ok", None))
            else:
                conn.send(("error", "ValueError", f"unknown request {op!r}"))
        except Exception as exc:
            for stream in (sys.stdout, sys.stderr):  # what it said is in the log first
                if stream is not None:
                    stream.flush()
            conn.send(("error", type(exc).__name__, str(exc)))
