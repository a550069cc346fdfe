"""The time left is measured from the first finished file, and only once there is a pace."""

from __future__ import annotations

import pytest

from desktop_rag.core.eta import EtaClock


def test_the_slow_start_does_not_count():
    clock = EtaClock()
    # 20 s of scanning and reading before the first file has its vectors.
    assert clock.estimate(0, 100, now=20.0) == (0.0, None)
    assert clock.estimate(10, 100, now=21.0) == (0.0, None)  # the clock starts here
    assert clock.estimate(12, 100, now=22.0) == (0.0, None)  # too soon to tell
    rate, left = clock.estimate(40, 100, now=31.0)
    assert rate == pytest.approx(3.0)  # 30 files in 10 s
    assert left == pytest.approx(20.0)  # not 60 s, as counting from 0 s would say


def test_no_estimate_without_progress_and_never_negative():
    clock = EtaClock()
    clock.estimate(5, 10, now=0.0)
    assert clock.estimate(5, 10, now=10.0) == (0.0, None)
    assert clock.estimate(12, 10, now=12.0)[1] == 0
