"""Errors a person may see. Each message says what happened, to what, and what to do."""

from __future__ import annotations


class UserFacingError(Exception):
    """Base of every error shown to the user; `str()` is the message to show."""

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None):
        self.message = message
        self.path = path
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return f"{text} ({self.hint})" if self.hint else text


class ExtractionError(UserFacingError):
    """A file could not be turned into text; it is skipped and recorded with `reason`."""

    def __init__(self, path: str, reason: str, hint: str | None = None):
        self.reason = reason
        super().__init__(reason, path=path, hint=hint)


class IndexMismatchError(UserFacingError):
    """The index was built by another embedding model; vectors of two models never mix."""


class ModelError(UserFacingError):
    """A chat model is missing, corrupt, or could not be loaded."""


class SettingsError(UserFacingError):
    """A setting has a value that cannot be used."""
