"""Canary for the PySide6 pin: PySide6 6.12.0 on CPython 3.11 loses a reference to
True/False on every bool emitted through a signal, and the interpreter later aborts.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QThread, Signal, Slot

EMITS = 3000
NOISE = 50  # other code may hold or drop a few references meanwhile


class _Emitter(QObject):
    flag = Signal(bool)

    @Slot()
    def _on_thread_started(self) -> None:
        for i in range(EMITS):
            self.flag.emit(i % 2 == 0)


class _Receiver(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    @Slot(bool)
    def _on_emitter_flag(self, value: bool) -> None:
        self.count += 1


def _refcounts() -> tuple[int, int]:
    return sys.getrefcount(True), sys.getrefcount(False)


def test_bools_through_a_direct_connection_keep_their_refcount():
    emitter, receiver = _Emitter(), _Receiver()
    emitter.flag.connect(receiver._on_emitter_flag)
    before = _refcounts()
    emitter._on_thread_started()
    after = _refcounts()
    assert receiver.count == EMITS
    assert abs(after[0] - before[0]) <= NOISE, (before, after)
    assert abs(after[1] - before[1]) <= NOISE, (before, after)


def test_bools_queued_across_a_thread_keep_their_refcount(qtbot):
    emitter, receiver = _Emitter(), _Receiver()
    thread = QThread()
    emitter.moveToThread(thread)
    emitter.flag.connect(receiver._on_emitter_flag)  # receiver lives here: queued
    thread.started.connect(emitter._on_thread_started)
    before = _refcounts()
    thread.start()
    try:
        qtbot.waitUntil(lambda: receiver.count == EMITS, timeout=10000)
    finally:
        thread.quit()
        thread.wait()
    after = _refcounts()
    assert abs(after[0] - before[0]) <= NOISE, (before, after)
    assert abs(after[1] - before[1]) <= NOISE, (before, after)
