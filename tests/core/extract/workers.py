"""Stand-ins for pypdf that run inside the PDF child process (they must be importable there)."""

from __future__ import annotations

import os
import signal
import time

from desktop_rag.core.extract.pdf_worker import read_pdf_pages


def sleep_forever(path: str):
    time.sleep(3600)


def segfault_on_crash_name(path: str):
    """Dies like a crashing native library when the file is named crash*; else reads it."""
    if os.path.basename(path).startswith("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    return read_pdf_pages(path)


def exhaust_memory(path: str):
    hog = []
    while True:
        hog.append(bytearray(256 * 1024 * 1024))


def report_pid(path: str):
    return [f"worker pid {os.getpid()}"], None, []
