"""What went wrong talking to a chat server, in words: the cause, not the exception's name.

`describe` maps what the HTTP client raised (openai / httpx2 exceptions and the OS errors
under them) or a status code to a `ServerError` whose `cause` is one of CAUSES.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from collections.abc import Iterator

from desktop_rag.core.errors import ModelError
from desktop_rag.core.llm.server.address import ServerAddress

CAUSES = (
    "refused",  # nothing listening
    "unknown_host",  # the name does not resolve
    "unreachable",  # no route, or the connection attempt timed out
    "timeout",  # connected, but no answer in time
    "tls",  # certificate or protocol mismatch
    "auth",  # 401/403: the API key
    "not_found",  # 404: a wrong path
    "loading",  # 503: the model is still loading
    "context",  # the prompt does not fit the server's context window
    "dropped",  # the connection ended in the middle of an answer
    "server",  # any other answer the server gave
)
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_CONTEXT = re.compile(
    r"(?:maximum context length is|context (?:window|size) of)\D{0,12}(\d+)", re.IGNORECASE
)


class ServerError(ModelError):
    """A chat server could not be used; `cause` is one of CAUSES, `status` the HTTP code."""

    def __init__(self, message: str, *, cause: str, hint: str | None = None, status: int = 0):
        self.cause = cause
        self.status = status
        super().__init__(message, hint=hint)


class ContextExceeded(ServerError):
    """The server's context window (`n_ctx` tokens) is smaller than the prompt sent."""

    def __init__(self, message: str, n_ctx: int):
        self.n_ctx = n_ctx
        super().__init__(message, cause="context", status=400)


def context_size_in(message: str) -> int | None:
    """The context size a server names when it refuses a prompt as too long, if it does.

    llama-cpp-python, vLLM and OpenAI: "This model's maximum context length is 1024
    tokens..."; llama-server: "...exceeds the available context size ... context size of N"."""
    match = _CONTEXT.search(message)
    return int(match.group(1)) if match else None


def for_status(
    address: ServerAddress, status: int, detail: str, what: str, n_ctx: int | None = None
) -> ServerError:
    """A `ServerError` for an HTTP error answer; `what` names the request ("the model list").
    `n_ctx`: the context size the error body gave (llama-server's exceed_context_size_error)."""
    where = address.display
    detail = " ".join(detail.split())[:300]
    if status in (401, 403):
        got = "refused the API key" if status == 401 else "does not allow this API key"
        return ServerError(
            f"The server at {where} {got} ({status}) for {what}",
            cause="auth",
            status=status,
            hint="enter the key the server was started with (llama-server --api-key KEY) in "
            "Settings, or with --api-key-env for the command line",
        )
    if status == 404:
        return ServerError(
            f"The server at {where} has no {what} at {address.base_url} (404)",
            cause="not_found",
            status=status,
            hint="give the server's address only, such as http://gpu-box:8080 (with or without "
            "/v1); it must be an OpenAI-compatible server such as llama-server",
        )
    if status == 503:
        return ServerError(
            f"The server at {where} is still loading its model (503)",
            cause="loading",
            status=status,
            hint="try again when it has finished loading",
        )
    if status == 400:
        n_ctx = n_ctx or context_size_in(detail)
    if status == 400 and n_ctx:
        return ContextExceeded(
            f"The question and its passages do not fit the server's context window "
            f"({n_ctx} tokens)",
            n_ctx,
        )
    return ServerError(
        f"The server at {where} answered {status} to {what}" + (f": {detail}" if detail else ""),
        cause="server",
        status=status,
    )


def describe(exc: BaseException, address: ServerAddress, what: str) -> ServerError:
    """A `ServerError` for an exception raised while requesting `what` from `address`."""
    if isinstance(exc, ServerError):
        return exc
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return for_status(address, status, _detail(exc), what, _body_n_ctx(exc))
    where = address.display
    chain = list(_chain(exc))
    names = " ".join(type(e).__name__ for e in chain)
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, ssl.SSLError) for e in chain) or "SSL" in text:
        return _tls(address, text)
    if any(isinstance(e, socket.gaierror) for e in chain) or "name resolution" in text.lower():
        return ServerError(
            f"The server name '{address.host}' could not be found",
            cause="unknown_host",
            hint="check the spelling, or use the server's IP address (ip addr / ipconfig on it)",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text.lower():
        hint = "check that llama-server is running and which port it uses (--port)"
        if address.host not in _LOOPBACK:
            hint += (
                "; a server started without --host listens on 127.0.0.1 only and cannot be "
                "reached from another computer: start it with --host 0.0.0.0 (and --api-key)"
            )
        return ServerError(f"Nothing is listening at {where}", cause="refused", hint=hint)
    if "ConnectTimeout" in names or _errno_in(chain, errno.EHOSTUNREACH, errno.ENETUNREACH):
        return ServerError(
            f"{where} could not be reached",
            cause="unreachable",
            hint="check that the computer is on and on this network, and that its firewall "
            f"lets port {address.port} in",
        )
    if "Timeout" in names:
        return ServerError(
            f"The server at {where} did not answer in time",
            cause="timeout",
            hint="it may be busy with another request or too slow for this model",
        )
    if "RemoteProtocolError" in names or "ReadError" in names or "closed" in text.lower():
        return ServerError(
            f"The connection to {where} was closed by the server",
            cause="dropped",
            hint="the server may have stopped or crashed; see its own log",
        )
    return ServerError(f"Could not talk to the server at {where}: {text}", cause="server")


def _tls(address: ServerAddress, text: str) -> ServerError:
    where = address.display
    if "WRONG_VERSION_NUMBER" in text or "record layer" in text or "packet length" in text:
        return ServerError(
            f"{where} does not speak https",
            cause="tls",
            hint=f"use http://{where} (and keep it to a private network or VPN)",
        )
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return ServerError(
            f"The certificate of {where} is not trusted by this computer",
            cause="tls",
            hint="use a certificate from a known authority, or add yours to the system's "
            "trusted certificates",
        )
    return ServerError(f"A secure connection to {where} failed: {text}", cause="tls")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _errno_in(chain: list[BaseException], *codes: int) -> bool:
    return any(isinstance(e, OSError) and e.errno in codes for e in chain)


def _body_n_ctx(exc: BaseException) -> int | None:
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    value = inner.get("n_ctx") if isinstance(inner, dict) else None
    return value if isinstance(value, int) and value > 0 else None


def _detail(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("detail") or inner)
        return str(inner)
    return str(getattr(exc, "message", "") or exc)
