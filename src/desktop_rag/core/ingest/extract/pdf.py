"""PDF extraction in a child process that a hostile file can hang or crash without harm.

One `PdfExtractor` keeps one child for many files (spawning Python and importing pypdf costs
about a tenth of a second per file) and replaces it after a timeout, crash or memory error.

The child sends each page as soon as it is read (`pdf_worker`), so the time limit can scale
with the work: one page (or opening the file) may take `pdf_timeout_s`, and the whole file
`pdf_timeout_s` plus `pdf_seconds_per_page` for each page. Pages read before any limit, a
crash or a memory error are kept, and the file's note says what was kept and why.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from desktop_rag.core.ingest.extract.base import Parsed, Part, Unreadable, clean, from_parts
from desktop_rag.core.ingest.extract.limits import DEFAULT_LIMITS, ExtractLimits
from desktop_rag.core.ingest.extract.pdf_worker import PageReader, serve

PageProgress = Callable[[int, int], None]  # (page number, total pages)

# Start-up is not counted against the per-file limit, but a child that cannot even start
# (a broken frozen build) must not hang the indexer either.
_STARTUP_TIMEOUT_S = 60.0


class PdfExtractor:
    """Owns one worker process. Thread-safe, but meant to have one owner (the indexer)."""

    def __init__(
        self, limits: ExtractLimits = DEFAULT_LIMITS, *, read_pages: PageReader | None = None
    ):
        self._limits = limits
        self._read_pages = read_pages  # a seam for tests: runs in the child instead of pypdf
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: multiprocessing.connection.Connection | None = None
        self._lock = threading.Lock()
        self._aborted = threading.Event()

    def __enter__(self) -> PdfExtractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def extract(self, path: Path, on_page: PageProgress | None = None) -> Parsed:
        """Pages of `path` as sections (page numbers 1-based), or raise Unreadable.

        `on_page(number, total)` after each page. A file cut short by a limit, a crash or
        running out of memory keeps the pages read before, with `Parsed.partial` saying so.
        """
        with self._lock:
            pages, title, failed, total, partial = self._ask(str(path), on_page)
        return pages_to_parsed(pages, title, failed, partial=partial, total=total)

    def close(self) -> None:
        with self._lock:
            self._stop(graceful=True)

    def abort(self) -> None:
        """From any thread: end a running extraction now (it raises "cancelled")."""
        self._aborted.set()
        process = self._process
        if process is not None:
            with contextlib.suppress(ValueError, OSError):  # already closed or gone
                process.kill()

    def _ask(self, path: str, on_page: PageProgress | None) -> tuple:
        """(pages, title, failed page numbers, total pages, note when cut short)."""
        self._aborted.clear()
        conn = self._start()
        try:
            conn.send(path)
        except OSError:  # the idle child died; one fresh try
            self._stop()
            conn = self._start()
            conn.send(path)
        limits = self._limits
        started = time.monotonic()
        deadline = started + limits.pdf_timeout_s
        pages: list[str] = []
        failed: list[int] = []
        title: str | None = None
        total: int | None = None
        while True:
            now = time.monotonic()
            wait = min(limits.pdf_timeout_s, deadline - now)
            if wait <= 0 or not conn.poll(wait):
                self._stop()
                if not pages:
                    raise Unreadable(f"PDF extraction timed out after {limits.pdf_timeout_s:g} s")
                spent, base = now - started, limits.pdf_timeout_s
                note = (
                    f"{_kept(pages, total)} were read before the time limit ({spent:.0f} s for "
                    f"this file: {base:g} s plus {limits.pdf_seconds_per_page:g} s a page); "
                    "raise “PDF time limit” in Settings to read the rest"
                )
                return pages, title, failed, total, note
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                detail = self._exit_detail()
                if not pages:
                    raise Unreadable(f"PDF extractor crashed ({detail})") from None
                note = (
                    f"{_kept(pages, total)} were read before the PDF extractor crashed ({detail})"
                )
                return pages, title, failed, total, note
            kind = msg[0]
            if kind == "start":
                total, title = msg[1], msg[2]
                deadline = started + limits.pdf_timeout_s + limits.pdf_seconds_per_page * total
            elif kind == "page":
                pages.append(msg[2])
                if msg[3]:
                    failed.append(msg[1])
                if on_page is not None:
                    on_page(msg[1], total or msg[1])
            elif kind == "end":
                return pages, title, failed, total, None
            elif kind == "error":
                if not pages:
                    raise Unreadable(msg[1])
                return (
                    pages,
                    title,
                    failed,
                    total,
                    (f"{_kept(pages, total)} were read before an error: {msg[1]}"),
                )
            elif kind == "oom":
                self._stop()
                limit = f"limit {limits.pdf_memory_mb} MB"
                if not pages:
                    raise Unreadable(f"PDF extraction ran out of memory ({limit})")
                return (
                    pages,
                    title,
                    failed,
                    total,
                    (
                        f"{_kept(pages, total)} were read before PDF extraction ran out of memory "
                        f"({limit})"
                    ),
                )

    def _start(self) -> multiprocessing.connection.Connection:
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop()
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=serve,
            args=(child, self._limits.pdf_memory_mb, self._read_pages),
            name="desktop-rag-pdf",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
        try:
            ready = parent.poll(_STARTUP_TIMEOUT_S) and parent.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            raise Unreadable(f"PDF extractor could not start ({self._exit_detail()})")
        return parent

    def _exit_detail(self) -> str:
        """How the child ended, e.g. "SIGSEGV" or "exit code 1"; stops it if it has not.

        Raises Unreadable("... cancelled") when `abort()` ended it, whether it was starting
        or reading: the kill was ours, and its SIGKILL is not a lack of memory.
        """
        process = self._process
        if process is not None:
            process.join(timeout=2.0)  # let a dying child finish so its exit code is real
        code = process.exitcode if process is not None else None
        self._stop()
        if self._aborted.is_set():
            raise Unreadable("PDF extraction was cancelled") from None
        if code is None or code >= 0:
            return f"exit code {code}" if code is not None else "it stopped answering"
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return f"killed by {name}, perhaps out of memory"
        return name

    def _stop(self, graceful: bool = False) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            if graceful and process is not None and process.is_alive():
                with contextlib.suppress(OSError):
                    conn.send(None)
            conn.close()
        if process is not None:
            process.join(timeout=2.0 if graceful else 0.0)
            if process.is_alive():
                process.kill()
            process.join(timeout=5.0)
            process.close()


def pages_to_parsed(
    pages: list[str],
    title: str | None,
    failed: list[int],
    *,
    partial: str | None = None,
    total: int | None = None,
) -> Parsed:
    """Pages joined with a blank line, one section per page; pure, tested directly.

    `partial`: why only the first pages (of `total`) are here; kept as the document's note.
    """
    if not pages:
        raise Unreadable("corrupt or unreadable PDF: it has no pages")
    text, sections = from_parts(Part(clean(t), page=n) for n, t in enumerate(pages, start=1))
    if not text:
        if len(failed) == len(pages):
            raise Unreadable("corrupt or unreadable PDF: no page could be read")
        raise Unreadable("no text layer (scanned PDF?)")
    bad = set(failed)
    blank = [n for n, t in enumerate(pages, start=1) if not t.strip() and n not in bad]
    warnings = []
    if blank:
        verb = "has" if len(blank) == 1 else "have"
        warnings.append(f"{_pages(blank)} {verb} no text layer")
    if failed:
        warnings.append(f"{_pages(failed)} could not be read")
    return Parsed(text, sections, _clean_title(title), tuple(warnings), partial or "")


def _kept(pages: list[str], total: int | None) -> str:
    count = len(pages)
    of = f" of {total:,}" if total else ""
    return f"only page 1{of}" if count == 1 else f"only pages 1-{count:,}{of}"


_PRODUCER_PREFIX = re.compile(r"^(?:Microsoft (?:Word|PowerPoint|Excel) - )", re.I)
_FILE_NAME = re.compile(r"\.(?:docx?|pptx?|xlsx?|odt|rtf|pdf|txt|tmp|indd|qxd)$", re.I)


def _clean_title(title: str | None) -> str | None:
    """Drop the file names that PDF printers write as titles ("Microsoft Word - x.doc")."""
    if not title:
        return None
    title = " ".join(_PRODUCER_PREFIX.sub("", title).split())
    if not title or _FILE_NAME.search(title) or title.lower() in {"untitled", "null"}:
        return None
    return title


def _pages(numbers: list[int]) -> str:
    """[3] -> "page 3"; [2, 3, 4, 7] -> "pages 2-4, 7"."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    text = ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
    return f"page {text}" if len(numbers) == 1 else f"pages {text}"
