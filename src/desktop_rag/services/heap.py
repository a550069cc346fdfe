"""Keeps the garbage collector's full passes from freezing the window.

torch, transformers and lancedb leave millions of long-lived Python objects behind. A full
(generation 2) collection walks every one of them while holding the GIL, whichever thread
triggered it: benchmarks/ui_stalls.py measured passes of 60 to 310 ms, each one a stall of
the UI thread. Collection is paused while the engine warms up (imports make almost no
cyclic garbage), then what the loads left behind moves to the permanent generation, so
later passes walk only the objects made since.
"""

from __future__ import annotations

import gc


def pause_collection() -> None:
    """Before the heavy imports and model loads: no full passes while they run."""
    gc.disable()


def settle_after_load() -> None:
    """After a load (or a failed one): keep what is loaded out of later passes, collect again.

    Frozen objects are never collected, so a cycle that dies later (an unloaded model)
    stays in memory; that costs far less than a stall on every full pass.
    """
    gc.freeze()
    gc.enable()
