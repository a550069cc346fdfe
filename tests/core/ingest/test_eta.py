"""The time left is measured from the first finished work, and only once there is a pace."""

from __future__ import annotations

import pytest

from desktop_rag.core.ingest.eta import EtaClock


def test_the_slow_start_does_not_count():
    clock = EtaClock()
    # 20 s of scanning and reading before the first chunk has its vector.
    assert clock.estimate(0, 1000, now=20.0) is None
    assert clock.estimate(100, 900, now=21.0) is None  # the clock starts here
    assert clock.estimate(120, 880, now=22.0) is None  # too soon to tell
    # 300 chunks in 10 s: 30 a second, so 600 more take 20 s (not 40, as from 0 s).
    assert clock.estimate(400, 600, now=31.0) == pytest.approx(20.0)


def test_no_estimate_without_progress_and_never_negative():
    clock = EtaClock()
    clock.estimate(5, 10, now=0.0)
    assert clock.estimate(5, 10, now=10.0) is None
    assert clock.estimate(12, -2, now=12.0) == 0
