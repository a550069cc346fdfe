"""The child-process side of PDF extraction. Runs pypdf under an address-space limit.

Kept free of any import that a spawned child would not need: it is the child's whole world.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from desktop_rag.core.extract.reading import os_reason

# Replies sent to the parent: ("ok", pages, title, failed) | ("error", reason) | ("oom",).
Reply = tuple[Any, ...]
PageReader = Callable[[str], tuple[list[str], str | None, list[int]]]


def serve(conn: Connection, memory_mb: int, read_pages: PageReader | None = None) -> None:
    """Answer one path at a time until the parent sends None or goes away."""
    import pypdf  # noqa: F401  (loaded before the cap so the cap measures extraction alone)

    _limit_memory(memory_mb)
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")
    reader = read_pages or read_pdf_pages
    try:
        conn.send(("ready",))
    except (OSError, ValueError):
        return
    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError):
            return
        if path is None:
            return
        try:
            reply: Reply = ("ok", *reader(path))
        except MemoryError:
            reply = ("oom",)
        except Exception as exc:  # every failure must reach the parent as a reason
            reply = ("error", _reason(exc))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        if reply[0] == "oom":
            return  # a process that hit the limit may be in a bad state; start afresh


def read_pdf_pages(path: str) -> tuple[list[str], str | None, list[int]]:
    """Text of each page, the metadata title, and the 1-based pages that failed to parse."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    reader = PdfReader(path)
    if reader.is_encrypted:
        # pypdf already tried the empty user password; this asks explicitly in case it did not.
        try:
            opened = reader.decrypt("")
        except DependencyError as exc:
            raise _Failure(
                "encrypted with AES, which needs the 'cryptography' package to open"
            ) from exc
        if not opened:
            raise _Failure("encrypted (password protected)")
    pages: list[str] = []
    failed: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            pages.append(page.extract_text() or "")
        except MemoryError:
            raise
        except Exception:  # one broken page must not cost the others
            pages.append("")
            failed.append(number)
    return pages, _title(reader), failed


def _title(reader: Any) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # broken metadata must not cost the text
        return None
    if not title:
        return None
    return str(title).strip() or None


class _Failure(Exception):
    """A reason already written for a person."""


def _reason(exc: BaseException) -> str:
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    if isinstance(exc, _Failure):
        return str(exc)
    if isinstance(exc, FileNotDecryptedError):
        return "encrypted (password protected)"
    if isinstance(exc, OSError):
        return os_reason(exc)
    message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    if not isinstance(exc, PyPdfError) or not message:
        # pypdf surfaces damage as many plain exception types; name the type for the log.
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"corrupt or unreadable PDF: {message}"


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what the child uses now plus `memory_mb`.

    Relative, because a spawned child first re-imports the parent's main module, and the
    GUI's Qt libraries alone can reserve more address space than any absolute cap would allow.
    """
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the wall-time limit still applies
        return
    try:
        limit = _address_space_bytes() + memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # macOS does not enforce RLIMIT_AS and may refuse it
        return


def _address_space_bytes() -> int:
    try:
        with open(f"/proc/{os.getpid()}/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
