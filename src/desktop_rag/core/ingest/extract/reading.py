"""Open a file defensively: every way a read can fail becomes a reason a person understands."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from desktop_rag.core.ingest.extract.base import Unreadable


def human_size(n: int) -> str:
    """1536 -> "1.5 KB"; whole numbers lose the decimal so limits read naturally."""
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    if unit == "bytes":
        return f"{n} bytes"
    return f"{value:.0f} {unit}" if value >= 100 or value == int(value) else f"{value:.1f} {unit}"


def os_reason(exc: OSError, path: str | Path | None = None) -> str:
    if isinstance(exc, FileNotFoundError):
        if path is not None and os.path.islink(path):
            return "broken link: the file it points to does not exist"
        return "file no longer exists"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return f"cannot read file: {exc.strerror or exc}"


def check_file(path: Path, max_bytes: int) -> int:
    """Stat `path` (following links) and return its size, or raise Unreadable."""
    try:
        st = path.stat()
    except OSError as exc:
        raise Unreadable(os_reason(exc)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise Unreadable("is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        # Opening a FIFO or device would block or never end.
        raise Unreadable("not a regular file")
    if st.st_size > max_bytes:
        raise Unreadable(f"too large ({human_size(st.st_size)}, limit {human_size(max_bytes)})")
    if st.st_size == 0:
        raise Unreadable("the file is empty")
    return st.st_size


def read_bytes(path: Path, max_bytes: int) -> bytes:
    check_file(path, max_bytes)
    try:
        with path.open("rb") as fh:
            # One byte more than allowed tells us the file grew past the limit since stat().
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise Unreadable(os_reason(exc)) from exc
    if len(data) > max_bytes:
        raise Unreadable(f"too large (over {human_size(max_bytes)} limit)")
    if not data:
        raise Unreadable("the file is empty")
    return data
