"""A client of an OpenAI-compatible chat server: llama.cpp's llama-server first, then
llama-cpp-python's server, Ollama's /v1, LM Studio, vLLM.

Chat completions go through the `openai` library (streaming, SSE parsing, errors); the
llama.cpp extras that OpenAI's API lacks (/health, /props for the context size, /tokenize,
/lora-adapters) through the same HTTP client. The API key is sent in the Authorization
header and never logged or put in a message.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
import openai

from desktop_rag.core.llm.server.address import ServerAddress, exposure_warning
from desktop_rag.core.llm.server.errors import ServerError, describe, for_status

PROBE_TIMEOUT_S = 10.0
# Generation: a long prompt on a big model may take minutes before the first token.
READ_TIMEOUT_S = 600.0
CONNECT_TIMEOUT_S = 5.0
NO_KEY = "no-key"  # the openai client insists on a key; servers without one ignore it


@dataclass(frozen=True)
class ServerLora:
    """An adapter the server loaded (llama-server --lora FILE): its id, file and scale."""

    id: int
    path: str
    scale: float

    @property
    def name(self) -> str:
        return file_name(self.path)


@dataclass(frozen=True)
class ServerInfo:
    """What a server told us. `n_ctx`: its context window per request (llama-server's
    /props, vLLM's max_model_len), None when it does not say. `tokenizer`: which token
    counting endpoint it has ("llama-server", "llama-cpp-python") or None (estimated).
    `warning`: the exposure warning for this address, if any. `seconds`: the probe's time."""

    address: ServerAddress
    kind: str
    models: tuple[str, ...]
    model: str
    n_ctx: int | None
    tokenizer: str | None
    loras: tuple[ServerLora, ...]
    build: str
    warning: str | None
    seconds: float


def estimate_tokens(text: str) -> int:
    """A count on the safe side when the server cannot count: BPE vocabularies average about
    four bytes of English a token, so three bytes a token over-counts nearly every text."""
    return len(text.encode("utf-8")) // 3 + 1


def file_name(path: str) -> str:
    """The last part of a path written on any system: a server may run on Windows, so its
    paths can use either separator (pathlib here would split on this system's only)."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def model_label(model_id: str) -> str:
    """A model id for display: llama-server names models by their file path."""
    name = file_name(model_id)
    return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name


class ServerClient:
    def __init__(
        self,
        address: ServerAddress,
        api_key: str | None = None,
        *,
        read_timeout_s: float = READ_TIMEOUT_S,
    ):
        self.address = address
        self._has_key = bool(api_key)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx2.Client(
            timeout=httpx2.Timeout(read_timeout_s, connect=CONNECT_TIMEOUT_S), headers=headers
        )
        self._openai = openai.OpenAI(
            base_url=address.base_url,
            api_key=api_key or NO_KEY,
            max_retries=0,  # a retry would hide the cause and double the wait
            http_client=self._http,
        )

    def __repr__(self) -> str:  # never the key
        return f"ServerClient({self.address.base_url}, key={'set' if self._has_key else 'none'})"

    def close(self) -> None:
        self._openai.close()

    def probe(self, model: str = "") -> ServerInfo:
        """Ask the server what it serves. `model`: the one wanted ("" = the first listed).

        Raises ServerError with the cause in words (nothing listening, the key, the path,
        a model still loading, TLS, a timeout)."""
        start = time.perf_counter()
        resolved = self._resolve()
        health = self._extra("GET", "/health")
        if health is not None and health.status_code == 503:
            raise for_status(self.address, 503, health.text, "the health check")
        try:
            listed = self._openai.models.list(timeout=PROBE_TIMEOUT_S).data
        except Exception as exc:
            raise describe(exc, self.address, "model list") from exc
        models = tuple(m.id for m in listed)
        chosen = model or (models[0] if models else "")
        if not chosen:
            raise ServerError(
                f"The server at {self.address.display} lists no model",
                cause="server",
                hint="start it with a model (llama-server -m model.gguf)",
            )
        props = self._json("GET", "/props")
        n_ctx = _props_n_ctx(props) or _listed_n_ctx(listed, chosen)
        tokenizer = self._tokenizer_kind()
        kind = {
            "llama-server": "llama.cpp server",
            "llama-cpp-python": "llama-cpp-python server",
        }.get(tokenizer or "", "OpenAI-compatible server")
        loras = _loras(self._json("GET", "/lora-adapters"))
        build = str(props.get("build_info", "")) if isinstance(props, dict) else ""
        return ServerInfo(
            address=self.address,
            kind=kind,
            models=models,
            model=chosen,
            n_ctx=n_ctx,
            tokenizer=tokenizer,
            loras=loras,
            build=build,
            warning=exposure_warning(self.address, resolved),
            seconds=time.perf_counter() - start,
        )

    def count_tokens(self, texts: Sequence[str], tokenizer: str | None) -> list[int]:
        """Token counts by the server's own tokenizer, or `estimate_tokens` without one."""
        counts = []
        for text in texts:
            n = None
            if tokenizer == "llama-server":
                data = self._json("POST", "/tokenize", {"content": text, "add_special": False})
                tokens = data.get("tokens") if isinstance(data, dict) else None
                n = len(tokens) if isinstance(tokens, list) else None
            elif tokenizer == "llama-cpp-python":
                data = self._json("POST", "/extras/tokenize/count", {"input": text})
                n = data.get("count") if isinstance(data, dict) else None
            counts.append(n if isinstance(n, int) else estimate_tokens(text))
        return counts

    def stream_chat(self, model: str, request: dict[str, Any]) -> Any:
        """Open a streamed chat completion; returns the openai `Stream` (iterate, close).

        `request`: messages, max_tokens, temperature, seed, stop, plus llama.cpp's own
        fields (repeat_penalty, lora) that the openai library passes through as they are."""
        known = {k: request[k] for k in ("messages", "max_tokens", "temperature", "stop")}
        if request.get("seed") is not None:
            known["seed"] = request["seed"]
        extra = {k: v for k, v in request.items() if k in ("repeat_penalty", "lora") and v}
        try:
            return self._openai.chat.completions.create(
                model=model, stream=True, extra_body=extra or None, **known
            )
        except Exception as exc:
            raise describe(exc, self.address, "chat completions") from exc

    def check_prompt(self, model: str, request: dict[str, Any]) -> None:
        """Send `request` once more, unstreamed, for one token: the error a server drops
        from a stream (llama-cpp-python's server ends it without a word when the prompt
        does not fit) comes back as an HTTP error here. Raises it as a ServerError."""
        for attempt in (1, 2):
            try:
                self._openai.chat.completions.create(
                    model=model,
                    messages=request["messages"],
                    max_tokens=1,
                    temperature=0.0,
                    timeout=PROBE_TIMEOUT_S * 3,
                )
                return
            except Exception as exc:
                error = describe(exc, self.address, "chat completions")
                # The pooled connection may be the one the server just closed: once more.
                if error.cause != "dropped" or attempt == 2:
                    raise error from exc

    # llama.cpp extras: absent on other servers, so a failure here is "not there", not fatal.

    def _extra(self, method: str, path: str, body: Any = None) -> httpx2.Response | None:
        try:
            return self._http.request(
                method, self.address.origin + path, json=body, timeout=PROBE_TIMEOUT_S
            )
        except httpx2.HTTPError as exc:
            error = describe(exc, self.address, path)
            if error.cause in ("refused", "unknown_host", "unreachable", "tls", "timeout"):
                raise error from exc
            return None

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = self._extra(method, path, body)
        if response is None:
            return None
        if response.status_code in (401, 403):
            raise for_status(self.address, response.status_code, response.text, path)
        if response.status_code != 200:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def _tokenizer_kind(self) -> str | None:
        data = self._json("POST", "/tokenize", {"content": "a", "add_special": False})
        if isinstance(data, dict) and isinstance(data.get("tokens"), list):
            return "llama-server"
        data = self._json("POST", "/extras/tokenize/count", {"input": "a"})
        if isinstance(data, dict) and isinstance(data.get("count"), int):
            return "llama-cpp-python"
        return None

    def _resolve(self) -> list[str]:
        try:
            infos = socket.getaddrinfo(
                self.address.host, self.address.port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise describe(exc, self.address, "the address") from exc
        return sorted({str(info[4][0]) for info in infos})


def _props_n_ctx(props: Any) -> int | None:
    if not isinstance(props, dict):
        return None
    settings = props.get("default_generation_settings")
    for source in (settings, props):
        value = source.get("n_ctx") if isinstance(source, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    return None


def _listed_n_ctx(listed: Sequence[Any], model: str) -> int | None:
    """vLLM lists `max_model_len` with each model."""
    for entry in listed:
        if entry.id == model:
            value = getattr(entry, "max_model_len", None)
            return value if isinstance(value, int) and value > 0 else None
    return None


def _loras(data: Any) -> tuple[ServerLora, ...]:
    if not isinstance(data, list):
        return ()
    found = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("id"), int):
            found.append(
                ServerLora(item["id"], str(item.get("path", "")), float(item.get("scale", 0.0)))
            )
    return tuple(found)
