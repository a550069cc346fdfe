"""Time left in an indexing run, from the pace since the first file was finished.

Pure: the caller passes the clock. The start of a run (scanning, reading the first group of
files before anything is embedded) says nothing about the pace, so it is left out, and no
estimate is given until a few seconds of finished files have been seen.
"""

from __future__ import annotations

from dataclasses import dataclass

MEASURE_AT_LEAST_S = 3.0


@dataclass
class EtaClock:
    since: float | None = None
    done_then: int = 0

    def estimate(self, done: int, total: int, now: float) -> tuple[float, float | None]:
        """(files per second, seconds left); (0, None) while there is nothing to go on."""
        if self.since is None:
            if done > 0:
                self.since, self.done_then = now, done
            return 0.0, None
        span = now - self.since
        if span < MEASURE_AT_LEAST_S or done <= self.done_then:
            return 0.0, None
        rate = (done - self.done_then) / span
        return rate, max(0, total - done) / rate
