"""The parent's handle on one model child process: start, talk, watch, kill.

Knows nothing about models; `host.py` decides what to ask. A child that dies (llama.cpp
aborts the whole process on some GPU errors) becomes a `ModelError` with the exit signal
and the last lines llama.cpp wrote to the child's log.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_rag.core.errors import ModelError
from desktop_rag.core.llm import worker

POLL_S = 0.02
STARTUP_TIMEOUT_S = 120.0


class Cancelled(Exception):
    """The caller's cancel event or `ModelHost.stop()` ended the wait."""


class ChildError(Exception):
    """The child answered a request with a Python exception (it is still alive)."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


class ChildProcess:
    def __init__(self, log_path: Path, backend: str = worker.DEFAULT_BACKEND):
        # spawn, not fork: works in the frozen app and never copies the parent's threads.
        ctx = multiprocessing.get_context("spawn")
        self.log_path = log_path
        self._conn, child_conn = ctx.Pipe(duplex=True)
        # A lock-free shared flag: killing the child can never leave a lock held.
        self.stop_flag = ctx.RawValue(ctypes.c_bool, False)
        self._proc = ctx.Process(
            target=worker.main,
            args=(child_conn, self.stop_flag, str(log_path), backend),
            name="desktop-rag-model",
            daemon=True,
        )
        self._proc.start()
        child_conn.close()
        self.hello: dict[str, Any] = {}

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def wait_hello(self, cancel: threading.Event | None, stop: threading.Event) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        msg = self.recv(cancel, stop, during="starting", deadline=deadline)
        if msg[0] != "hello":
            raise ModelError(f"the model process sent {msg[0]!r} instead of a greeting")
        self.hello = msg[1]

    def send(self, op: str, payload: Any = None) -> None:
        try:
            self._conn.send((op, payload))
        except (OSError, ValueError) as exc:
            raise self.crash_error("receiving a request") from exc

    def recv(
        self,
        cancel: threading.Event | None,
        stop: threading.Event,
        *,
        during: str,
        deadline: float | None = None,
    ) -> tuple[Any, ...]:
        """Next message; raises `Cancelled` as soon as cancel or stop is set."""
        while True:
            if stop.is_set() or (cancel is not None and cancel.is_set()):
                raise Cancelled()
            try:
                if self._conn.poll(POLL_S):
                    return self._conn.recv()
            except (EOFError, OSError) as exc:
                raise self.crash_error(during) from exc
            if not self._proc.is_alive() and not self._conn.poll(0):
                raise self.crash_error(during)
            if deadline is not None and time.monotonic() > deadline:
                self.kill()
                raise ModelError(f"the model process did not answer while {during}")

    def request(
        self,
        op: str,
        payload: Any,
        cancel: threading.Event | None,
        stop: threading.Event,
        on_progress: Callable[[float], None] | None = None,
    ) -> Any:
        self.send(op, payload)
        msg = self.recv(cancel, stop, during=_DURING.get(op, op))
        while msg[0] == "progress":
            if on_progress is not None:
                on_progress(msg[1])
            msg = self.recv(cancel, stop, during=_DURING.get(op, op))
        if msg[0] == "error":
            raise ChildError(msg[1], msg[2])
        return msg[1]

    def halt(self, grace_s: float) -> None:
        """Ask a generating child to stop; kill it if it does not finish within `grace_s`."""
        self.stop_flag.value = True
        deadline = time.monotonic() + grace_s
        while (left := deadline - time.monotonic()) > 0 and self.alive():
            try:
                if not self._conn.poll(left):
                    break
                if self._conn.recv()[0] in ("done", "error"):
                    return  # tokens sent after the stop are dropped on purpose
            except (EOFError, OSError):
                break
        self.kill()

    def alive(self) -> bool:
        return self._proc.is_alive()

    def kill(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join(1.0)
        self._conn.close()

    def close(self, timeout_s: float = 2.0) -> None:
        """Let the child exit on its own (it sees the pipe close), then make sure."""
        self._conn.close()
        self._proc.join(timeout_s)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(1.0)

    def crash_error(self, during: str) -> ModelError:
        self._proc.join(1.0)
        code = self._proc.exitcode
        tail = self.log_tail()
        self.kill()
        if code is not None and code < 0:
            try:
                how = f"was stopped by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was stopped by signal {-code}"
        else:
            how = f"exited with code {code}"
        message = f"The model process {how} while {during}"
        if code == -signal.SIGKILL:
            message += "; the computer most likely ran out of memory"
        said = error_lines(tail)
        if said:
            message += f". llama.cpp said: {said[-1]}"
        error = ModelError(
            message,
            hint="llama.cpp stops like this when memory runs out: try fewer GPU layers, a "
            "smaller context or a smaller model. The model is reloaded on the next question",
        )
        error.log_tail = tail  # type: ignore[attr-defined]
        return error

    def log_tail(self, lines: int = 20) -> list[str]:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()][-lines:]


_ERROR_WORDS = ("error", "fail", "abort", "assert", "out of memory", "unable", "invalid")


def error_lines(lines: list[str]) -> list[str]:
    """The log lines worth quoting to a person; llama.cpp's chatter is left out."""
    return [line for line in lines if any(w in line.lower() for w in _ERROR_WORDS)]


_DURING = {
    "load": "loading the model",
    "unload": "unloading the model",
    "count": "counting tokens",
    "arm_abort": "arming the test hook",
}
