"""Helpers shared by the benchmark scripts (not part of the app)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BENCH_DIR = REPO / ".bench"

sys.path.insert(0, str(REPO / "src"))


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


class StderrProgress:
    """A line every `every` seconds on stderr, so a long run shows it is alive."""

    def __init__(self, label: str, every: float = 15.0):
        import time

        self._time = time
        self.label = label
        self.every = every
        self._last = 0.0

    def __call__(self, p) -> None:
        now = self._time.monotonic()
        if now - self._last >= self.every or p.phase == "done":
            self._last = now
            print(f"  [{self.label}] {p.done}/{p.total} {p.phase}", file=sys.stderr, flush=True)
