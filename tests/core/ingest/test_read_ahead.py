"""ReadAhead on its own: order, the bound on what waits, cancel, errors of the source."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from desktop_rag.core.ingest.read_ahead import ReadAhead


@dataclass(frozen=True)
class Item:
    n: int
    texts: int = 1


def test_items_come_in_order_and_the_buffer_stays_bounded():
    produced: list[int] = []

    def source():
        for n in range(50):
            produced.append(n)
            yield Item(n, texts=2)

    got = []
    with ReadAhead(source(), 4, 100, threading.Event()) as ahead:
        for item in ahead:
            time.sleep(0.002)  # a slow consumer: the producer fills the buffer and waits
            # Taken: `item`; waiting: at most 4; in the producer's hand: at most 1.
            assert len(produced) <= item.n + 1 + 4 + 1
            got.append(item.n)
    assert got == list(range(50))
    assert ahead.peak_items == 4 and ahead.peak_weight == 8


def test_weight_bounds_the_buffer_but_one_heavy_item_always_passes():
    items = [Item(0, 3), Item(1, 3), Item(2, 50), Item(3, 1)]
    seen_weights = []
    with ReadAhead(iter(items), 10, 5, threading.Event()) as ahead:
        time.sleep(0.2)  # let it fill what it may
        seen_weights.append(ahead.peak_weight)
        got = [item.n for item in ahead]
    assert got == [0, 1, 2, 3]
    assert seen_weights == [3]  # 3 + 3 > 5: the second item waited for the first to go
    assert ahead.peak_weight == 50  # alone in the buffer, the heavy one was let through


def test_cancel_ends_iteration_while_the_producer_is_busy():
    cancel = threading.Event()
    release = threading.Event()

    def source():
        yield Item(0)
        release.wait(10)  # a long extraction, cut short later (the indexer aborts it)
        yield Item(1)

    with ReadAhead(source(), 4, 100, cancel) as ahead:
        it = iter(ahead)
        assert next(it).n == 0
        threading.Timer(0.2, cancel.set).start()
        started = time.monotonic()
        assert list(it) == []
        assert time.monotonic() - started < 2
        release.set()


def test_an_error_of_the_source_reaches_the_consumer_after_the_items_before_it():
    def source():
        yield Item(0)
        raise RuntimeError("walk failed")

    got = []
    ahead = ReadAhead(source(), 4, 100, threading.Event())
    with pytest.raises(RuntimeError, match="walk failed"), ahead:
        for item in ahead:
            got.append(item.n)
    assert got == [0]


def test_leaving_early_stops_the_producer_and_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            for n in range(1000):
                yield Item(n)
        finally:
            closed.set()

    with ReadAhead(source(), 2, 100, threading.Event()) as ahead:
        for item in ahead:
            if item.n == 3:
                break
    assert closed.is_set()
    assert not ahead._thread.is_alive()
