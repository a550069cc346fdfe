"""The child-process side of PDF extraction. Runs pypdf under an address-space limit.

Kept free of any import that a spawned child would not need: it is the child's whole world.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from desktop_rag.core.ingest.extract.reading import os_reason

# What the child sends for one file, in order:
#   ("start", pages, title, engine)          once the file is open
#   ("page", number, text, failed)           each page, 1-based, as soon as it is read
#   ("end",)                                 all pages sent
# or, at any point, ("error", reason) or ("oom",): the pages sent so far stand.
Event = tuple[Any, ...]
PageReader = Callable[[str], Iterator[Event]]


def serve(conn: Connection, memory_mb: int, read_pages: PageReader | None = None) -> None:
    """Answer one path at a time until the parent sends None or goes away."""
    import pypdf  # noqa: F401  (loaded before the cap so the cap measures extraction alone)
    import pypdfium2  # noqa: F401

    _limit_memory(memory_mb)
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")
    reader = read_pages or read_pdf
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
        events: Iterator[Event] | None = None
        last: Event = ("end",)
        while True:
            try:
                events = events or iter(reader(path))
                event = next(events, None)
            except MemoryError:
                last = ("oom",)
                break
            except Exception as exc:  # every failure must reach the parent as a reason
                last = ("error", _reason(exc))
                break
            if event is None:
                break
            try:
                conn.send(event)
            except (OSError, ValueError):
                return  # the parent went away
        try:
            conn.send(last)
        except (OSError, ValueError):
            return
        if last[0] == "oom":
            return  # a process that hit the limit may be in a bad state; start afresh


def read_pdf(path: str) -> Iterator[Event]:
    """Pages of a PDF as events: pypdf first, PDFium where pypdf refuses the file (its
    safety limits, structures it cannot parse) or a page. Form field values (AcroForm,
    not flattened) are added to the page they sit on, as a viewer draws them."""
    try:
        reader = _open_pypdf(path)
    except _Failure:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        yield from _read_pdfium(path, refused=_reason(exc))
        return
    pages = reader.pages
    yield ("start", len(pages), _title(reader), "pypdf")
    pdfium = None
    for number, page in enumerate(pages, start=1):
        failed = False
        try:
            text = page.extract_text() or ""
        except MemoryError:
            raise
        except Exception:  # one broken page must not cost the others: PDFium tries it
            pdfium = pdfium or _pdfium_document(path)
            text = _pdfium_page_text(pdfium, number - 1)
            failed = text is None
            text = text or ""
        fields = _field_values(page)
        if fields:
            text = (text.rstrip("\n") + "\n" if text.strip() else "") + "\n".join(fields)
        yield ("page", number, text, failed)
    if pdfium is not None:
        pdfium.close()


def events_from_pages(pages: list[str], title: str | None = None) -> Iterator[Event]:
    """A reader's events for pages already in hand (test stand-ins)."""
    yield ("start", len(pages), title, "test")
    for number, text in enumerate(pages, start=1):
        yield ("page", number, text, False)


def _open_pypdf(path: str) -> Any:
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
    _ = reader.pages[0] if len(reader.pages) else None  # the page tree parses, or raises here
    return reader


def _read_pdfium(path: str, refused: str) -> Iterator[Event]:
    try:
        document = _pdfium_document(path)
    except Exception as exc:
        detail = _pdfium_reason(exc)
        raise _Failure(f"{refused}; PDFium could not open it either ({detail})") from exc
    try:
        total = len(document)
        yield ("start", total, _pdfium_title(document), "pdfium")
        for index in range(total):
            text = _pdfium_page_text(document, index)
            yield ("page", index + 1, text or "", text is None)
    finally:
        document.close()


def _pdfium_document(path: str) -> Any:
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(path)


def _pdfium_page_text(document: Any, index: int) -> str | None:
    """A page's text by PDFium, or None when it cannot be read."""
    try:
        page = document[index]
        try:
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_bounded()
            finally:
                textpage.close()
        finally:
            page.close()
    except MemoryError:
        raise
    except Exception:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pdfium_title(document: Any) -> str | None:
    try:
        title = document.get_metadata_dict().get("Title")
    except Exception:
        return None
    return str(title).strip() or None if title else None


def _pdfium_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return text or type(exc).__name__


def _field_values(page: Any) -> list[str]:
    """Values typed into the page's form fields, top to bottom, left to right."""
    try:
        annotations = page.get("/Annots")
        annotations = annotations.get_object() if annotations is not None else []
    except Exception:
        return []
    found: list[tuple[float, float, str]] = []
    for ref in annotations or []:
        try:
            annot = ref.get_object()
            if annot.get("/Subtype") != "/Widget":
                continue
            value = _inherited(annot, "/V")
            kind = _inherited(annot, "/FT")
            label = _inherited(annot, "/TU") or _inherited(annot, "/T")
            text = _field_text(kind, value, label)
            if not text:
                continue
            rect = [float(x) for x in annot.get("/Rect", [0, 0, 0, 0])]
            found.append((-max(rect[1], rect[3]), min(rect[0], rect[2]), text))
        except Exception:  # one odd field must not cost the page
            continue
    return [text for _y, _x, text in sorted(found)]


def _inherited(annot: Any, key: str) -> Any:
    """A field attribute on the widget or on its parent field (fields are trees)."""
    node, depth = annot, 0
    while node is not None and depth < 10:
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
        depth += 1
    return None


def _field_text(kind: Any, value: Any, label: Any) -> str:
    if value is None:
        return ""
    if kind == "/Btn":  # a ticked box or chosen radio button: its label (the mark is a glyph)
        state = str(value).lstrip("/")
        if state in ("Off", ""):
            return ""
        name = str(label or "").strip()
        return (
            f"[x] {name}" if name and state in ("Yes", "On", "1") else f"[x] {name} {state}".strip()
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value).strip()


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
