"""Stand-ins for pypdf that run inside the PDF child process (they must be importable there).

Each is a `pdf_worker.PageReader`: it yields the child's events for one file.
"""

from __future__ import annotations

import os
import signal
import time

from desktop_rag.core.ingest.extract.pdf_worker import events_from_pages, read_pdf


def sleep_forever(path: str):
    time.sleep(3600)
    yield from ()


def segfault_on_crash_name(path: str):
    """Dies like a crashing native library when the file is named crash*; else reads it."""
    if os.path.basename(path).startswith("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    yield from read_pdf(path)


def exhaust_memory(path: str):
    hog = []
    while True:
        hog.append(bytearray(256 * 1024 * 1024))
    yield from ()


def report_pid(path: str):
    yield from events_from_pages([f"worker pid {os.getpid()}"])


def slow_pages(path: str):
    """A long document read at 50 pages a second, each page naming its number: as many
    pages as the file name's number says (manual-300.pdf), else 2,000."""
    digits = "".join(c for c in os.path.basename(path) if c.isdigit())
    total = int(digits) if digits else 2000
    yield ("start", total, None, "test")
    for number in range(1, total + 1):
        time.sleep(0.02)
        yield ("page", number, f"Page {number} of the long manual, code C{number:05}.", False)


def crash_after_three_pages(path: str):
    yield ("start", 10, None, "test")
    for number in range(1, 4):
        yield ("page", number, f"Kept page {number}.", False)
    os.kill(os.getpid(), signal.SIGSEGV)
