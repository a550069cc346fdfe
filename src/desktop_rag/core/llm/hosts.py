"""Where the chat model runs: `make_host` gives the host for the settings, one seam for the
app, the CLI and the benchmarks. Both hosts answer the `ChatHost` calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from desktop_rag.core.llm.model_info import ModelInfo, Timings
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.settings import Settings


class Cancelled(Exception):
    """The caller's cancel event or the host's `stop()` ended a wait (load or generate).

    Raised by either host; the answerer turns it into a stopped answer."""


class ChatHost(Protocol):
    """What the answerer needs of a model: `core.llm.local.host.ModelHost` (a child process here)
    or `core.llm.server.host.RemoteHost` (an OpenAI-compatible server)."""

    @property
    def info(self) -> ModelInfo | None: ...

    @property
    def runtime(self) -> dict[str, Any]: ...

    def model_path(self) -> str: ...

    def reconfigure(self, settings: Settings) -> None: ...

    def load(
        self,
        model_path: str | None = None,
        *,
        cancel: threading.Event | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> ModelInfo: ...

    def count_tokens_batch(self, texts: list[str]) -> list[int]: ...

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
    ) -> Timings: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


def make_host(settings: Settings, paths: AppPaths, *, api_key: str | None = None) -> ChatHost:
    """The host for `settings.model_location`. For a server, `api_key` (None: the one kept
    for that server in the key store, if any). Raises ServerAddressError for a bad address."""
    if settings.model_location == "server":
        from desktop_rag.core.llm.server.host import RemoteHost
        from desktop_rag.core.llm.server.secrets import api_key_for

        key = api_key_for(settings.server_url, paths.secrets_file, api_key)
        return RemoteHost(settings, api_key=key)
    from desktop_rag.core.llm.local.host import ModelHost

    return ModelHost(settings, log_dir=paths.logs_dir)
