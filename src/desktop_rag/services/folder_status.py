"""What the app knows about one watched folder at a moment, and how to say it in words."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from desktop_rag.core.path_keys import display_path


class FolderState(enum.StrEnum):
    WATCHING = "watching"
    QUEUED = "queued"
    INDEXING = "indexing"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class FolderStatus:
    path: str
    state: FolderState = FolderState.WATCHING
    files: int = 0
    errors: int = 0
    done: int = 0
    total: int = 0
    eta_s: float | None = None
    phase: str = ""
    current: str = ""
    page: int = 0  # a long PDF being read: at this page, of `pages`
    pages: int = 0

    @property
    def fraction(self) -> float | None:
        """Share of the current indexing run done, or None when there is no run or no total."""
        if self.state is not FolderState.INDEXING or self.total <= 0:
            return None
        return min(1.0, self.done / self.total)


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s left"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d} left"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min left"


_PHASE_WORDS = {
    "scanning": "Looking through",
    "extracting": "Reading",
    "embedding": "Embedding the passages of",
    "writing": "Saving",
    "removing": "Forgetting",
}


def activity(status: FolderStatus) -> str:
    """What the indexer is doing right now, for the folder's tooltip; "" when idle."""
    if status.state is not FolderState.INDEXING or not status.current:
        return ""
    if status.phase == "optimizing":
        return "Tidying the index"
    word = _PHASE_WORDS.get(status.phase, "Working on")
    text = f"{word} {Path(display_path(status.current)).name or status.current}"
    if status.pages:
        text += f", page {status.page:,} of {status.pages:,}"
    return text


def describe(status: FolderStatus) -> str:
    """One line under the folder name: its state, and the numbers that matter in it."""
    files = f"{status.files} file" + ("" if status.files == 1 else "s")
    errors = ""
    if status.errors:
        errors = f" · {status.errors} problem" + ("" if status.errors == 1 else "s")
    match status.state:
        case FolderState.INDEXING:
            if status.total:
                eta = format_eta(status.eta_s)
                text = f"Indexing {status.done}/{status.total}"
                return text + (f" · {eta}" if eta else "") + errors
            return f"Scanning… {status.done} found" if status.done else "Scanning…"
        case FolderState.QUEUED:
            return "Waiting to index"
        case FolderState.PAUSED:
            return f"Paused · {files}" + errors
        case FolderState.UNAVAILABLE:
            return "Unavailable: the folder cannot be reached (unplugged or removed?)"
        case _:
            return f"Watching · {files}" + errors
