"""How long the UI thread stalls while the app indexes a corpus and streams an answer.

Runs the real window (offscreen by default) on a throwaway data folder. A 5 ms QTimer on the
UI thread records when it actually fires; the gaps between ticks are the stalls a person
would feel. Three phases of one run:

1. baseline: the idle window;
2. start-up: the engine's one-time heavy imports (torch, transformers, lancedb) and the model
   load on the worker threads, until the first file is being indexed;
3. steady: indexing `../shared/corpus` while an answer streams in (asked a few seconds in,
   about the bundled sample folder, which is indexed first so the model has passages to cite).

Aim: longest gap under 50 ms in the steady phase.

    python benchmarks/ui_stalls.py [--corpus DIR] [--index-seconds 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

from desktop_rag.core.paths import app_paths, resources_dir
from desktop_rag.core.settings import Settings
from desktop_rag.services.app_services import build_services
from desktop_rag.ui.main_window import MainWindow

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
TICK_MS = 5
QUESTION = "When did the Tansy Valley Railway open, and what did it carry?"


class TickRecorder(QObject):
    def __init__(self):
        super().__init__()
        self.stamps: list[float] = []
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_timer_timeout)

        self.trace_after_s = 0.0

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.stamps.append(time.perf_counter())
        if self.trace_after_s:
            # faulthandler's watchdog is a C thread, so it can print every thread's stack
            # even while another thread holds the GIL: the culprit of the stall.
            faulthandler.dump_traceback_later(self.trace_after_s)

    def start(self) -> None:
        self.stamps = []
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        faulthandler.cancel_dump_traceback_later()
        return [1000 * (b - a) for a, b in zip(self.stamps, self.stamps[1:], strict=False)]


def spin(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def spin_until(condition, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        spin(0.05)
    return condition()


def summary(name: str, gaps: list[float]) -> str:
    if not gaps:
        return f"{name}: no ticks"
    ordered = sorted(gaps)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    over = sum(1 for g in gaps if g > 50)
    return (
        f"{name:<28} ticks={len(gaps):>6}  median={statistics.median(gaps):6.1f} ms  "
        f"p99={p99:6.1f} ms  longest={max(gaps):6.1f} ms  gaps>50ms={over}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--index-seconds",
        type=float,
        default=60.0,
        help="how long to measure while indexing (the answer comes midway)",
    )
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--keep", type=Path, help="data folder to use and keep")
    parser.add_argument(
        "--trace-stalls-ms",
        type=float,
        default=0.0,
        help="print every thread's stack to stderr when the UI thread stalls this long",
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} not found", file=sys.stderr)
        return 2

    QApplication.instance() or QApplication([])
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="ui-stalls-"))
    settings = Settings(max_tokens=200, temperature=0.0)
    services = build_services(app_paths(data_dir), settings)
    window = MainWindow(services, settings, opener=lambda path, page: None)
    window.resize(1280, 800)
    window.show()
    recorder = TickRecorder()
    recorder.trace_after_s = args.trace_stalls_ms / 1000

    spin(0.5)
    recorder.start()
    spin(args.baseline_seconds)
    baseline = recorder.stop()

    recorder.start()
    started = time.monotonic()
    services.start()
    sample = window.add_folder(str(resources_dir() / "sample"))
    folder = window.add_folder(str(args.corpus))

    def engine_warm() -> bool:
        status = services.folders.status(folder)
        return (
            services.chat.model_info is not None
            and services.folders.status(sample).state.value == "watching"
            and status is not None
            and status.state.value == "indexing"
            and status.total > 0  # scanned: files are being read
        )

    warm = spin_until(engine_warm, 600)
    startup = recorder.stop()
    startup_s = time.monotonic() - started

    recorder.start()
    started = time.monotonic()
    tokens: list[str] = []
    services.chat.token.connect(lambda _rid, text: tokens.append(text))
    finished: list[object] = []
    services.conversations.message_finished.connect(finished.append)
    spin(min(5.0, args.index_seconds / 3))
    asked_at = time.monotonic() - started
    services.conversations.send(QUESTION)
    answered = spin_until(lambda: finished, 600)
    answer_s = time.monotonic() - started - asked_at
    remaining = args.index_seconds - (time.monotonic() - started)
    if remaining > 0:
        spin(remaining)
    loaded = recorder.stop()
    status = services.folders.statuses()

    print(f"corpus: {args.corpus}")
    print(f"start-up phase: {startup_s:.1f} s (engine warm: {warm})")
    print(
        f"steady phase: {time.monotonic() - started:.1f} s; question asked at {asked_at:.1f} s, "
        f"answered={answered} after {answer_s:.1f} s ({len(tokens)} token signals, "
        f"{len(''.join(tokens))} characters)"
    )
    for item in status:
        print(
            f"folder {Path(item.path).name}: {item.state.value}, "
            f"{item.done}/{item.total} files in this run"
        )
    print(summary("baseline (idle window)", baseline))
    print(summary("start-up (heavy imports)", startup))
    print(summary("indexing + streaming", loaded))
    met = loaded and max(loaded) < 50
    print(
        f"aim: longest gap under 50 ms while indexing and streaming -> "
        f"{'met' if met else 'NOT met'}"
    )

    closing = time.monotonic()
    window._quitting = True
    window.close()
    print(
        f"window closed: hidden at once, every worker stopped after "
        f"{time.monotonic() - closing:.1f} s"
    )
    from desktop_rag.services.worker import TaskRunner

    if TaskRunner.unfinished():  # see app.main: never destroy a running QThread
        print("a background job was still running at exit")
        sys.stdout.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
