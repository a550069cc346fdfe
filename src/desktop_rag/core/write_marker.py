"""A marker file that says "a write is under way, by process N".

LanceDB commits each operation on its own, so a kill between the steps of one logical
write leaves the tables out of step. The marker lets the next opener notice that and
repair, while a writer that is still alive in another process is left alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


class WriteMarker:
    def __init__(self, path: Path):
        self.path = path

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Around one logical write. Left in place if the write raises or the process dies."""
        self.path.write_text(str(os.getpid()), encoding="ascii")
        yield
        self.path.unlink(missing_ok=True)

    def interrupted(self) -> bool:
        """True when a writer left its marker and is gone (or was this very process)."""
        try:
            pid = int(self.path.read_text(encoding="ascii").strip() or 0)
        except FileNotFoundError:
            return False
        except (OSError, ValueError):
            return True
        return pid == os.getpid() or not _pid_alive(pid)


def _pid_alive(pid: int) -> bool:
    if sys.platform == "win32":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFO
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
