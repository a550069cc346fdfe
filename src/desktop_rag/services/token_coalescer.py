"""Coalesce streamed tokens so the UI thread gets a few updates a second, not hundreds."""

from __future__ import annotations

import time
from collections.abc import Callable

FLUSH_INTERVAL_S = 0.03


class TokenCoalescer:
    """Called on the worker thread for every token; emits joined text at most every interval.

    The concatenation of everything emitted equals the concatenation of everything added,
    once `flush()` has run at the end.
    """

    def __init__(
        self,
        emit: Callable[[str], None],
        interval_s: float = FLUSH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._emit = emit
        self._interval = interval_s
        self._clock = clock
        self._pending: list[str] = []
        self._last = clock() - interval_s  # the first token shows at once

    def add(self, token: str) -> None:
        if not token:
            return
        self._pending.append(token)
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self.flush()

    def flush(self) -> None:
        if self._pending:
            text, self._pending = "".join(self._pending), []
            self._emit(text)
