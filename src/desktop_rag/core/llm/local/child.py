"""The parent's handle on one model child process: start, talk, watch, kill.

Knows nothing about models; `local/host.py` decides what to ask. A child that dies becomes a
`ModelCrash` that names the true cause (`exit_cause.py`): instructions this CPU lacks,
memory, or a crash quoting the last lines llama.cpp wrote to the child's log.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_rag.core.errors import ModelError
from desktop_rag.core.llm.hosts import Cancelled
from desktop_rag.core.llm.local import worker
from desktop_rag.core.llm.local.cpu_features import build_features, cpu_features
from desktop_rag.core.llm.local.exit_cause import ChildExit, ModelCrash, explain_exit

POLL_S = 0.02
STARTUP_TIMEOUT_S = 120.0


class ChildError(Exception):
    """The child answered a request with a Python exception (it is still alive)."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


def read_oom_kills() -> int | None:
    """How many processes the Linux kernel's OOM killer has killed since boot (None: unknown).

    `/proc/vmstat` is readable without privileges (Linux 4.13+), unlike the kernel log.
    """
    try:
        with open("/proc/vmstat", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class ChildProcess:
    def __init__(
        self,
        log_path: Path,
        backend: str = worker.DEFAULT_BACKEND,
        oom_kills: Callable[[], int | None] = read_oom_kills,
        cpu: Callable[[], frozenset[str] | None] = cpu_features,
    ):
        self._oom_kills = oom_kills
        self._cpu_features = cpu
        self._oom_at_start = oom_kills()
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

    def crash_error(self, during: str) -> ModelCrash:
        """The error for this child having died, with its true cause (see `exit_cause`)."""
        self._proc.join(1.0)
        code = self._proc.exitcode
        tail = tuple(self.log_tail())
        self.kill()
        oom_now = self._oom_kills()
        info = self.hello.get("system_info")
        facts = ChildExit(
            exitcode=code,
            during=during,
            log_tail=tail,
            oom_killed=None
            if oom_now is None or self._oom_at_start is None
            else oom_now > self._oom_at_start,
            build_features=build_features(info) if isinstance(info, str) else None,
            cpu_features=self._cpu_features(),
            frozen=bool(getattr(sys, "frozen", False)),
            log_path=str(self.log_path),
        )
        return explain_exit(facts)

    def log_tail(self, lines: int = 20) -> list[str]:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()][-lines:]


_DURING = {
    "load": "loading the model",
    "unload": "unloading the model",
    "count": "counting tokens",
    "arm_abort": "arming the test hook",
}
