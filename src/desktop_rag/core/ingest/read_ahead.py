"""Run an iterator on a thread of its own, a bounded number of items ahead of its consumer.

The indexer reads files (PDF extraction in a child process, chunking) with this while its
own thread embeds: the two overlap instead of taking turns. Items are handed over in the
order produced. The buffer holds at most `max_items` items and `max_weight` in all (the
indexer weighs a file by its chunks), except that one item is always let through however
heavy, so a huge file cannot stall the run.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class Weighed(Protocol):
    @property
    def texts(self) -> int: ...


T = TypeVar("T", bound=Weighed)

_POLL_S = 0.1  # how often a waiting consumer looks at the cancel flag


class ReadAhead(Generic[T]):
    """Iterate it (on one thread) to get what `source` yields (on another).

    Iteration ends when `source` is exhausted or `cancel` is set; an exception raised by
    `source` itself is raised again in the consumer. Use it as a context manager: leaving
    stops the producer at its next item and joins its thread.

    Statistics for tests and benchmarks: `peak_items`, `peak_weight` (most waiting at
    once), `waited_s` (seconds the consumer waited for an item).
    """

    def __init__(
        self, source: Iterator[T], max_items: int, max_weight: int, cancel: threading.Event
    ):
        self._source = source
        self._max_items = max(1, max_items)
        self._max_weight = max_weight
        self._cancel = cancel
        self._cond = threading.Condition()
        self._items: deque[T] = deque()
        self._weight = 0
        self._finished = False  # the producer has stopped, for whatever reason
        self._stop = False  # the consumer has left
        self._error: BaseException | None = None
        self.peak_items = 0
        self.peak_weight = 0
        self.waited_s = 0.0
        self._thread = threading.Thread(target=self._produce, name="desktop-rag-read-ahead")

    def __enter__(self) -> ReadAhead[T]:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the producer (after the item in hand) and wait for its thread."""
        with self._cond:
            self._stop = True
            self._items.clear()
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        close = getattr(self._source, "close", None)
        if close is not None:  # a generator's `finally` blocks run now, on this thread
            close()

    def ready(self) -> bool:
        """An item is waiting: taking it will not block."""
        with self._cond:
            return bool(self._items)

    def __iter__(self) -> Iterator[T]:
        while True:
            with self._cond:
                started = time.perf_counter()
                while not self._items and not self._finished and not self._cancel.is_set():
                    self._cond.wait(_POLL_S)
                self.waited_s += time.perf_counter() - started
                if self._cancel.is_set():
                    return
                if not self._items:
                    if self._error is not None:
                        raise self._error
                    return
                item = self._items.popleft()
                self._weight -= item.texts
                self._cond.notify_all()
            yield item

    def _produce(self) -> None:
        try:
            for item in self._source:
                with self._cond:
                    while not self._stop and self._items and self._full(item):
                        self._cond.wait()
                    if self._stop:
                        return
                    self._items.append(item)
                    self._weight += item.texts
                    self.peak_items = max(self.peak_items, len(self._items))
                    self.peak_weight = max(self.peak_weight, self._weight)
                    self._cond.notify_all()
                if self._cancel.is_set():
                    return
        except BaseException as exc:  # raised again in the consumer, which owns the run
            self._error = exc
        finally:
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _full(self, item: T) -> bool:
        return len(self._items) >= self._max_items or self._weight + item.texts > self._max_weight
