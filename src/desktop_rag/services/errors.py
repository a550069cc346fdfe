"""Turn an exception from the engine into one line a person can act on."""

from __future__ import annotations

from desktop_rag.core.errors import UserFacingError


def describe_error(exc: object) -> str:
    if isinstance(exc, UserFacingError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "ran out of memory (try a smaller model, fewer GPU layers or a smaller context)"
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    if isinstance(exc, BaseException):
        text = str(exc).strip() or type(exc).__name__
        return f"unexpected error: {text} (details in the log)"
    return str(exc)
