from __future__ import annotations

import errno
import os
import queue
import time
from pathlib import Path

import pytest
from watchdog.events import (
    DirCreatedEvent,
    DirModifiedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from desktop_rag.core.ingest.ignore import IgnoreRules
from desktop_rag.core.sync.changes import (
    CHANGED,
    DELETED,
    MOVED,
    ChangeBatch,
    FsEvent,
    PathMove,
    coalesce,
)
from desktop_rag.core.sync.watcher import Debouncer, FolderWatcher, _Handler
from tests.core.sync.watcher_fakes import LimitedObserver


def changed(p: str, is_dir: bool = False) -> FsEvent:
    return FsEvent(CHANGED, p, is_dir=is_dir)


def moved(a: str, b: str, is_dir: bool = False) -> FsEvent:
    return FsEvent(MOVED, a, b, is_dir)


# -- coalescing (pure) ---------------------------------------------------------------


def test_many_events_for_one_save_become_one_path() -> None:
    batch = coalesce([changed("/r/x.txt")] * 5 + [FsEvent(DELETED, "/r/gone.txt")])
    assert batch.paths == ("/r/x.txt",)
    assert batch.gone == ("/r/gone.txt",)
    assert batch.moves == ()
    assert batch.events == 6


def test_move_chain_collapses_and_round_trip_vanishes() -> None:
    assert coalesce([moved("/r/a", "/r/b"), moved("/r/b", "/r/c")]).moves == (
        PathMove("/r/a", "/r/c"),
    )
    assert coalesce([moved("/r/a", "/r/b"), moved("/r/b", "/r/a")]).moves == ()


def test_pending_change_follows_its_file_when_moved() -> None:
    batch = coalesce([changed("/r/a.txt"), moved("/r/a.txt", "/r/b.txt")])
    assert batch.moves == (PathMove("/r/a.txt", "/r/b.txt"),)
    assert batch.paths == ("/r/b.txt",)  # the edit is checked at its new place


def test_folder_move_swallows_per_file_echoes() -> None:
    events = [
        moved("/r/d", "/r/e", is_dir=True),
        moved("/r/d/1.txt", "/r/e/1.txt"),
        moved("/r/d/s/2.txt", "/r/e/s/2.txt"),
    ]
    batch = coalesce(events)
    assert batch.moves == (PathMove("/r/d", "/r/e", is_dir=True),)
    assert batch.paths == ()


def test_last_event_decides_between_present_and_gone() -> None:
    batch = coalesce(
        [changed("/r/a"), FsEvent(DELETED, "/r/a"), FsEvent(DELETED, "/r/b"), changed("/r/b")]
    )
    assert batch.gone == ("/r/a",) and batch.paths == ("/r/b",)
    folder = coalesce([changed("/r/d", is_dir=True), FsEvent(DELETED, "/r/d", is_dir=True)])
    assert folder.gone == ("/r/d",) and folder.dirs == ()


def test_new_folder_is_walked() -> None:
    assert coalesce([changed("/r/new", is_dir=True)]).dirs == ("/r/new",)


# -- handler: what watchdog's thread forwards ----------------------------------------


def handler_events(root: str, *events) -> list[FsEvent]:
    out: list[FsEvent] = []
    handler = _Handler(root, IgnoreRules(), out.append)
    for event in events:
        handler.on_any_event(event)
    return out


def test_atomic_save_through_temp_file_is_a_change_of_the_real_file() -> None:
    out = handler_events(
        "/r",
        FileCreatedEvent("/r/.x.txt.swp"),
        FileModifiedEvent("/r/.x.txt.swp"),
        FileMovedEvent("/r/.x.txt.swp", "/r/x.txt"),
        FileCreatedEvent("/r/x.txt.tmp"),
        FileMovedEvent("/r/x.txt.tmp", "/r/x.txt"),
    )
    assert out == [changed("/r/x.txt"), changed("/r/x.txt")]


def test_rename_to_backup_name_is_a_deletion_and_noise_is_dropped() -> None:
    out = handler_events(
        "/r",
        FileMovedEvent("/r/x.txt", "/r/x.txt~"),
        FileOpenedEvent("/r/x.txt"),
        DirModifiedEvent("/r"),
        FileClosedEvent("/r/y.txt"),
        FileDeletedEvent("/r/node_modules/a.md"),
        DirCreatedEvent("/r/sub"),
    )
    assert out == [FsEvent(DELETED, "/r/x.txt"), changed("/r/y.txt"), changed("/r/sub", True)]


# -- debouncer -----------------------------------------------------------------------


def test_debouncer_waits_for_quiet_but_not_past_max_delay() -> None:
    now = [0.0]
    deb = Debouncer(lambda b: None, quiet_s=0.5, max_delay_s=2.0, clock=lambda: now[0])
    deb.add(changed("/r/a"))
    now[0] = 0.4
    deb.add(changed("/r/b"))
    now[0] = 0.8
    assert deb.take_if_due() is None  # only 0.4 s of quiet
    for step in range(1, 10):  # a steady stream, one event every 0.2 s
        now[0] = 0.8 + step * 0.2
        deb.add(changed(f"/r/c{step}"))
        batch = deb.take_if_due()
        if batch is not None:
            break
    assert batch is not None and now[0] >= 2.0  # released by the max delay
    assert len(batch.paths) == step + 2


def test_debouncer_thread_delivers_one_batch_for_a_burst() -> None:
    batches: queue.Queue[ChangeBatch] = queue.Queue()
    deb = Debouncer(batches.put, quiet_s=0.2, max_delay_s=3.0)
    deb.start()
    try:
        for i in range(1000):
            deb.add(changed(f"/r/f{i}.txt"))
        batch = batches.get(timeout=5)
        assert len(batch.paths) == 1000
        with pytest.raises(queue.Empty):
            batches.get(timeout=0.5)
    finally:
        deb.stop()


# -- real watchdog -------------------------------------------------------------------


def collect_until(batches: queue.Queue, want, timeout: float = 10.0) -> list[ChangeBatch]:
    got: list[ChangeBatch] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.append(batches.get(timeout=0.2))
        except queue.Empty:
            continue
        if want(got):
            return got
    raise AssertionError(f"wanted batches never came: {got}")


def test_real_watchdog_atomic_save_and_burst(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("old")
    batches: queue.Queue[ChangeBatch] = queue.Queue()
    watcher = FolderWatcher(batches.put, IgnoreRules(), quiet_s=0.3, max_delay_s=3.0)
    watcher.start()
    try:
        assert watcher.watch(str(tmp_path))
        tmp = tmp_path / ".x.txt.swp"
        tmp.write_text("new content")
        os.replace(tmp, tmp_path / "x.txt")
        got = collect_until(batches, lambda b: any(str(tmp_path / "x.txt") in x.paths for x in b))
        all_paths = {p for b in got for p in b.paths} | {m.new for b in got for m in b.moves}
        assert all_paths == {str(tmp_path / "x.txt")}  # the temp file never shows up

        sub = tmp_path / "burst"
        sub.mkdir()
        for i in range(200):
            (sub / f"f{i}.txt").write_text(str(i))
        wanted = {str(sub / f"f{i}.txt") for i in range(200)}
        got = collect_until(
            batches,
            lambda b: {p for x in b for p in x.paths} >= wanted,
        )
        assert len(got) <= 2  # one burst, one or two batches, never 200
    finally:
        watcher.stop()


def test_inotify_limit_falls_back_to_polling(tmp_path: Path) -> None:
    reasons: list[tuple[str, str]] = []
    watcher = FolderWatcher(
        lambda b: None,
        IgnoreRules(),
        on_fallback=lambda folder, reason: reasons.append((folder, reason)),
        observer_factory=LimitedObserver,
    )
    watcher.start()
    try:
        assert watcher.watch(str(tmp_path)) is False
        assert watcher.polled == {str(tmp_path)}
        assert "max_user_watches" in reasons[0][1] and reasons[0][0] == str(tmp_path)
    finally:
        watcher.stop()


def test_observer_that_cannot_start_puts_every_folder_on_polling(tmp_path: Path) -> None:
    def broken():
        raise OSError(errno.EMFILE, "inotify instance limit reached")

    reasons: list[str] = []
    watcher = FolderWatcher(
        lambda b: None, IgnoreRules(), on_fallback=lambda f, r: reasons.append(r),
        observer_factory=broken,
    )  # fmt: skip
    watcher.start()
    try:
        assert watcher.watch(str(tmp_path)) is False
        assert "max_user_instances" in reasons[0]
    finally:
        watcher.stop()
