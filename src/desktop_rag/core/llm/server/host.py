"""`RemoteHost`: the chat model on another computer, behind an OpenAI-compatible server.

It answers the calls the answerer makes of `ModelHost` (load, generate, count_tokens_batch,
stop, info), so the same prompt budget, loop guard and attribution run on both. Network
calls run on a thread of their own; the caller waits on a queue and checks its stop flags
every 50 ms, so `stop()` returns at once whatever the network does. Stopping closes the
HTTP stream, which tells llama-server to stop generating.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from desktop_rag.core.llm.gpu.fit import FitPlan
from desktop_rag.core.llm.hosts import Cancelled
from desktop_rag.core.llm.model_info import ModelInfo, Timings
from desktop_rag.core.llm.server.address import ServerAddress, parse_server_url
from desktop_rag.core.llm.server.client import ServerClient, ServerInfo, file_name, model_label
from desktop_rag.core.llm.server.errors import ContextExceeded, ServerError, describe
from desktop_rag.core.settings import SERVER_MODEL_FIELDS, Settings

# The prompt budget when the server does not say its context window: llama-cpp-python's
# server default, and at most what llama-server gives each of four parallel slots of 8192.
SAFE_N_CTX = 2048
POLL_S = 0.05
log = logging.getLogger(__name__)
T = TypeVar("T")


class RemoteHost:
    def __init__(self, settings: Settings, *, api_key: str | None = None):
        """`api_key`: sent as a bearer token (None: no key). Raises ServerAddressError for
        an address that cannot be one."""
        self._settings = settings
        self._address: ServerAddress = parse_server_url(settings.server_url)
        self._client = ServerClient(self._address, api_key)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._server: ServerInfo | None = None
        self._info: ModelInfo | None = None
        self._lora: list[dict[str, Any]] = []

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def address(self) -> ServerAddress:
        return self._address

    @property
    def server(self) -> ServerInfo | None:
        """What the server said when last probed (None before the first load)."""
        return self._server

    @property
    def info(self) -> ModelInfo | None:
        return self._info

    @property
    def runtime(self) -> dict[str, Any]:
        server = self._server
        if server is None:
            return {"server": self._address.base_url}
        return {"server": server.address.base_url, "kind": server.kind, "build": server.build}

    @property
    def child_pid(self) -> int | None:
        return None

    def model_path(self) -> str:
        return self._address.base_url

    def reconfigure(self, settings: Settings) -> None:
        """New settings; the server is asked again on next use if they change which model
        or adapter it runs (a new address needs a new host)."""
        with self._lock:
            old, self._settings = self._settings, settings
            changed = (
                getattr(old, f, None) != getattr(settings, f, None) for f in SERVER_MODEL_FIELDS
            )
            if any(changed):
                self._info = None

    def start(self) -> dict[str, Any]:
        return self.runtime

    def load(
        self,
        model_path: str | None = None,
        *,
        cancel: threading.Event | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> ModelInfo:
        """Ask the server what it runs (`model_path` is ignored: the server chose its
        model). Raises ServerError with the cause in words, Cancelled on stop."""
        with self._lock:
            self._stop.clear()
            if self._info is None:
                self._probe(cancel)
            if on_progress is not None:
                on_progress(1.0)
            assert self._info is not None
            return self._info

    def count_tokens(self, text: str) -> int:
        return self.count_tokens_batch([text])[0]

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        """The server's own token counts (llama.cpp's servers), or a safe estimate."""
        with self._lock:
            self._stop.clear()
            server = self._server or self._probe(None)
            tokenizer = server.tokenizer
            return self._off_thread(lambda: self._client.count_tokens(texts, tokenizer), None)

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
        """Stream a chat completion from the server to `on_token`, as `ModelHost.generate`.

        A connection lost after the first token ends the answer with what came and the
        reason in `Timings.interrupted`; before it, ServerError is raised (ContextExceeded
        when the prompt is too long for the server, which then knows its window)."""
        with self._lock:
            start = time.perf_counter()
            self._stop.clear()
            try:
                if self._info is None:
                    self._probe(cancel)
            except Cancelled:
                return Timings(None, 0, None, time.perf_counter() - start, stopped=True)
            assert self._server is not None
            request: dict[str, Any] = {
                "messages": messages,
                "max_tokens": max_tokens or self._settings.max_tokens,
                "temperature": self._settings.temperature if temperature is None else temperature,
                "seed": seed,
                "repeat_penalty": repeat_penalty,
                "stop": list(stop) or None,
                "lora": self._lora,
            }
            stream = _Stream(self._client, self._server.model, request)
            first = last = None
            tokens, stopped, interrupted = 0, False, ""
            try:
                while True:
                    if self._stop.is_set() or (cancel is not None and cancel.is_set()):
                        stopped = True
                        break
                    try:
                        kind, value = stream.events.get(timeout=POLL_S)
                    except queue.Empty:
                        continue
                    if kind == "token":
                        last = time.perf_counter()
                        first = first or last
                        tokens += 1
                        on_token(value)
                    elif kind == "done":
                        break
                    elif tokens == 0:
                        raise self._before_first_token(value, request)
                    else:
                        interrupted = (
                            f"{value.message} after {tokens} tokens; the text that came is kept"
                        )
                        break
            finally:
                stream.halt()
            return Timings.streamed(
                start, first, last, tokens, stopped=stopped, interrupted=interrupted
            )

    def stop(self) -> None:
        """End the running generation or probe (any thread); returns at once."""
        self._stop.set()

    def close(self) -> None:
        self.stop()
        with self._lock:
            self._client.close()
            self._info = None

    # Internals; callers hold the lock.

    def _probe(self, cancel: threading.Event | None) -> ServerInfo:
        model = self._settings.server_model
        server = self._off_thread(lambda: self._client.probe(model), cancel)
        self._server = server
        self._lora, applied, lora_note = _lora_request(server, self._settings)
        if lora_note:
            log.warning("%s", lora_note)
        where = f"{server.kind} at {server.address.display}"
        plan = FitPlan(
            gpu_layers=0,
            total_layers=0,
            expected_vram_bytes=0,
            reason=f"The model runs on the {where}; its GPU use is set there (llama-server -ngl).",
            mode="cpu",
        )
        n_ctx = server.n_ctx or min(SAFE_N_CTX, self._settings.context_size)
        self._info = ModelInfo(
            path=server.address.base_url,
            name=model_label(server.model),
            size_bytes=0,
            quantization="",
            n_layers=0,
            gpu_layers=0,
            plan=plan,
            chat_template_source="server",
            n_ctx=n_ctx,
            chat_format="server",
            llama_cpp_version=server.build,
            server=server.address.base_url,
            lora=applied,
            lora_scale=self._settings.lora_scale,
            lora_error=lora_note or None,
        )
        return server

    def _before_first_token(self, error: ServerError, request: dict[str, Any]) -> ServerError:
        """The error to raise for a stream that failed before its first token. A stream that
        just ended is asked about once more, unstreamed (the server may say why there); a
        refusal that names the context window teaches it (`_learn_context`)."""
        if error.cause == "dropped":
            assert self._server is not None
            model = self._server.model
            try:
                self._off_thread(lambda: self._client.check_prompt(model, request), None)
            except ServerError as exc:
                error = exc
            except Cancelled:
                pass
        if isinstance(error, ContextExceeded):
            self._learn_context(error.n_ctx)
        return error

    def _learn_context(self, n_ctx: int) -> None:
        """The server named its window in a refusal: budget with it from now on."""
        if self._server is not None:
            self._server = replace(self._server, n_ctx=n_ctx)
        if self._info is not None:
            self._info = replace(self._info, n_ctx=n_ctx)

    def _off_thread(self, call: Callable[[], T], cancel: threading.Event | None) -> T:
        """Run a blocking network call on a thread; Cancelled when stopped meanwhile."""
        box: queue.Queue[tuple[bool, Any]] = queue.Queue()

        def run() -> None:
            try:
                box.put((True, call()))
            except BaseException as exc:
                box.put((False, exc))

        threading.Thread(target=run, name="chat-server-call", daemon=True).start()
        while True:
            if self._stop.is_set() or (cancel is not None and cancel.is_set()):
                raise Cancelled()
            try:
                ok, value = box.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if ok:
                return value
            if isinstance(value, ServerError):
                raise value
            raise describe(value, self._address, "the request") from value


def _lora_request(
    server: ServerInfo, settings: Settings
) -> tuple[list[dict[str, Any]], str | None, str]:
    """For the adapter chosen in Settings, matched by file name among those the server
    loaded: llama-server's per-request scales, the adapter's path on the server (None when
    none applies), and a note when the server has no such adapter."""
    wanted = file_name(settings.lora_path or "")
    if not wanted:
        # Adapters the server loaded apply at their own scale (llama-server --lora-scaled).
        return [], None, ""
    applied = next((lora for lora in server.loras if lora.name == wanted), None)
    if applied is None:
        have = ", ".join(lora.name for lora in server.loras) or "none"
        return (
            [],
            None,
            (
                f"The server at {server.address.display} has no adapter named {wanted} loaded "
                f"(it has: {have}); answering without it. Start llama-server with --lora {wanted}."
            ),
        )
    scales = [
        {"id": lora.id, "scale": settings.lora_scale if lora is applied else 0.0}
        for lora in server.loras
    ]
    return scales, applied.path, ""


class _Stream:
    """One streamed answer, read on its own thread into `events`: ("token", text),
    ("done", None) or ("error", ServerError). `halt()` closes the connection."""

    def __init__(self, client: ServerClient, model: str, request: dict[str, Any]):
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._client = client
        self._halted = threading.Event()
        self._stream: Any = None
        self._guard = threading.Lock()
        threading.Thread(
            target=self._read, args=(model, request), name="chat-server-stream", daemon=True
        ).start()

    def halt(self) -> None:
        self._halted.set()
        with self._guard:
            stream = self._stream
        if stream is not None:
            _close(stream)

    def _read(self, model: str, request: dict[str, Any]) -> None:
        address = self._client.address
        finished = False
        try:
            stream = self._client.stream_chat(model, request)
            with self._guard:
                self._stream = stream
            if self._halted.is_set():
                _close(stream)
                return
            for chunk in stream:
                if self._halted.is_set():
                    return
                choice = chunk.choices[0] if chunk.choices else None
                if choice is None:
                    continue
                text = choice.delta.content if choice.delta is not None else None
                if text:
                    self.events.put(("token", text))
                finished = finished or choice.finish_reason is not None
        except BaseException as exc:
            if not self._halted.is_set():
                self.events.put(("error", describe(exc, address, "the answer")))
            return
        if finished:
            self.events.put(("done", None))
        else:
            error = ServerError(
                f"The server at {address.display} ended the answer without finishing it",
                cause="dropped",
            )
            self.events.put(("error", error))


def _close(stream: Any) -> None:
    """Close a stream now, even while its reader thread waits in recv(): shutting the socket
    down wakes that read and tells the server at once (a bare close() may do neither)."""
    try:
        network = stream.response.extensions["network_stream"]
        network.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
    except Exception:
        pass
    try:
        stream.close()
    except Exception:
        log.debug("closing the answer stream failed", exc_info=True)
