"""TaskRunner: serial execution on its own thread, tagged results, cancel between steps."""

from __future__ import annotations

import threading
import time

import pytest

from desktop_rag.services.worker import JobContext, TaskRunner


@pytest.fixture
def runner():
    r = TaskRunner("test-runner")
    yield r
    assert r.shutdown()


def test_jobs_run_in_order_on_one_background_thread(qtbot, runner):
    threads: list[int] = []

    def job(tag):
        def run(ctx: JobContext):
            threads.append(threading.get_ident())
            ctx.progress(f"{tag}-half")
            return tag

        return run

    results: list[tuple[int, object]] = []
    progress: list[tuple[int, object]] = []
    runner.finished.connect(lambda rid, value: results.append((rid, value)))
    runner.progress.connect(lambda rid, value: progress.append((rid, value)))
    ids = [runner.submit(job(t)) for t in ("a", "b", "c")]
    qtbot.waitUntil(lambda: len(results) == 3, timeout=5000)
    assert results == list(zip(ids, "abc", strict=True))
    assert progress == list(zip(ids, ["a-half", "b-half", "c-half"], strict=True))
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()
    assert runner.pending() == 0


def test_a_failing_job_reports_and_the_worker_survives(qtbot, runner):
    def boom(ctx):
        raise ValueError("bad file")

    with qtbot.waitSignal(runner.failed, timeout=5000) as failed:
        rid = runner.submit(boom)
    assert failed.args[0] == rid and str(failed.args[1]) == "bad file"
    with qtbot.waitSignal(runner.finished, timeout=5000) as done:
        runner.submit(lambda ctx: 42)
    assert done.args[1] == 42


def test_cancel_is_seen_by_a_running_job(qtbot, runner):
    started = threading.Event()

    def long_job(ctx: JobContext):
        started.set()
        for step in range(500):
            if ctx.cancelled:
                return f"stopped at {step}"
            time.sleep(0.01)
        return "ran to the end"

    with qtbot.waitSignal(runner.finished, timeout=5000) as done:
        rid = runner.submit(long_job)
        assert started.wait(5)
        t0 = time.monotonic()
        runner.cancel(rid)
    assert done.args[1].startswith("stopped at")
    assert time.monotonic() - t0 < 0.5
