"""The one folder walk: which files under a folder are to be indexed (sync and the indexer).

`os.scandir` (one stat per entry, cached by the OS), the ignore rules, virtual environments
skipped by their marker file, and no folder entered twice: real paths of visited folders are
tracked, so symlink loops and links to folders already walked are skipped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_rag.core.ingest import extract
from desktop_rag.core.ingest.extract.reading import os_reason
from desktop_rag.core.ingest.ignore import IgnoreRules, is_venv_dir
from desktop_rag.core.records import DiskFile

LOOP_REASON = "symlink to a folder already indexed"


@dataclass(frozen=True)
class Scan:
    files: dict[str, DiskFile]
    loops: tuple[str, ...] = ()  # symlinked folders skipped because already walked
    # (path, reason): folders that could not be listed, entries that vanished or cannot be
    # read; what was indexed under them is unknown, not gone.
    errors: tuple[tuple[str, str], ...] = ()


def default_supported(path: str) -> bool:
    return extract.is_supported(Path(path))


def scan_folder(
    root: str,
    rules: IgnoreRules,
    *,
    supported: Callable[[str], bool] = default_supported,
    cancel: threading.Event | None = None,
    rel_prefix: str = "",
) -> Scan:
    """Supported, not ignored files under `root`. `rel_prefix` is `root`'s place inside its
    watched folder, so that anchored ignore patterns still apply when walking a subfolder.

    A broken or looping link to a supported file is listed with size and time 0, so that
    indexing it records why it cannot be read.
    """
    files: dict[str, DiskFile] = {}
    loops: list[str] = []
    errors: list[tuple[str, str]] = []
    real_root = os.path.realpath(root)
    seen_dirs = {real_root}
    stack = [(root, rel_prefix.strip("/"))]
    while stack:
        if cancel is not None and cancel.is_set():
            break
        folder, rel_folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            errors.append((folder, os_reason(exc)))
            continue
        if rel_folder and is_venv_dir(frozenset(e.name for e in entries)):
            continue
        for entry in entries:
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            try:
                is_dir = entry.is_dir()
                if is_dir:
                    if rules.ignores_entry(rel, True):
                        continue
                    real = os.path.realpath(entry.path)
                    # A link into the folder itself is skipped: the real folder is walked
                    # under its own path. Links out of it are followed, each target once.
                    if real in seen_dirs or (entry.is_symlink() and _inside(real, real_root)):
                        loops.append(entry.path)
                        continue
                    seen_dirs.add(real)
                    stack.append((entry.path, rel))
                elif entry.is_file():
                    if rules.ignores_entry(rel, False) or not supported(entry.path):
                        continue
                    if entry.is_symlink() and _inside(os.path.realpath(entry.path), real_root):
                        continue  # the target itself is indexed under its own path
                    st = entry.stat()
                    files[entry.path] = DiskFile(entry.path, st.st_size, st.st_mtime_ns)
                elif entry.is_symlink() and _wanted_file(entry.path, rel, rules, supported):
                    files[entry.path] = DiskFile(entry.path, 0, 0)  # dangling
            except OSError as exc:  # a link loop, or vanished or unreadable since the listing
                if entry.is_symlink() and _wanted_file(entry.path, rel, rules, supported):
                    files[entry.path] = DiskFile(entry.path, 0, 0)
                else:
                    errors.append((entry.path, os_reason(exc)))
    return Scan(files=files, loops=tuple(loops), errors=tuple(errors))


def _wanted_file(path: str, rel: str, rules: IgnoreRules, supported: Callable[[str], bool]):
    return not rules.ignores_entry(rel, False) and supported(path)


def _inside(path: str, real_folder: str) -> bool:
    # sync.folders.is_under, which this layer cannot import (sync builds on ingest).
    return path == real_folder or path.startswith(real_folder.rstrip(os.sep) + os.sep)
