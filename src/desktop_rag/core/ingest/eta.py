"""Time left in an indexing run, from the pace since the first piece of work was finished.

Pure: the caller passes the clock and counts work in whatever unit tracks time (the
indexer counts chunks: embedding them is most of the time, and files differ a hundredfold
in chunks). The start of a run (scanning, reading the first group of files before anything
is embedded) says nothing about the pace, so it is left out, and no estimate is given until
a few seconds of finished work have been seen.
"""

from __future__ import annotations

from dataclasses import dataclass

MEASURE_AT_LEAST_S = 3.0


@dataclass
class EtaClock:
    since: float | None = None
    done_then: float = 0.0

    def estimate(self, done: float, left: float, now: float) -> float | None:
        """Seconds for `left` more units at the pace of those `done` so far; None: unknown."""
        if self.since is None:
            if done > 0:
                self.since, self.done_then = now, done
            return None
        span = now - self.since
        if span < MEASURE_AT_LEAST_S or done <= self.done_then:
            return None
        return max(0.0, left) * span / (done - self.done_then)
