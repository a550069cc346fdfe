"""`desktop-rag folders add|remove|list|pause|resume` and `desktop-rag watch`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_rag.core.cli.index import ProgressPrinter, open_knowledge_base
from desktop_rag.core.paths import app_paths
from desktop_rag.core.sync.folders import FolderStore

if TYPE_CHECKING:  # these import LanceDB: only the commands that need them load it
    from desktop_rag.core.sync.engine import SyncEngine, SyncEvent, SyncReport


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("folders", help="the folders kept in sync with the index")
    sub = p.add_subparsers(dest="folders_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="watch a folder and index it now")
    add.add_argument("path", metavar="PATH")
    add.add_argument("--no-index", action="store_true", help="only watch; index on next `watch`")
    add.set_defaults(func=run_add)
    for name, func, text in (
        ("remove", run_remove, "stop watching a folder and forget its chunks"),
        ("pause", run_pause, "keep the index of a folder but stop syncing it"),
        ("resume", run_resume, "sync a paused folder again"),
    ):
        action = sub.add_parser(name, help=text)
        action.add_argument("path", metavar="PATH")
        action.set_defaults(func=func)
    sub.add_parser("list", help="watched folders and their state").set_defaults(func=run_list)

    p = subparsers.add_parser(
        "watch", help="keep every watched folder in sync until interrupted (Ctrl-C)"
    )
    p.add_argument("--quiet", type=float, default=0.7, metavar="S", help="debounce (s)")
    p.add_argument("--poll", type=float, default=30.0, metavar="S", help="rescan without inotify")
    p.set_defaults(func=run_watch)


def _print_event(event: SyncEvent) -> None:
    print(event.line(), flush=True)


@contextlib.contextmanager
def _sigint_sets(event: threading.Event) -> Iterator[None]:
    """First Ctrl-C: stop cleanly between files. A second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if event.is_set():
            raise KeyboardInterrupt
        print("\nstopping (Ctrl-C again to interrupt at once)", file=sys.stderr, flush=True)
        event.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _engine(args: argparse.Namespace, **kw) -> SyncEngine:
    from desktop_rag.core.sync.engine import SyncEngine

    return SyncEngine.open(args.data_dir, on_event=_print_event, **kw)


def _summary(report: SyncReport) -> str:
    i = report.index
    return (
        f"{i.indexed} indexed, {i.unchanged} unchanged, {i.moved} moved, {i.removed} removed, "
        f"{len(i.skipped)} failed; {i.chunks_embedded} chunks embedded in {report.seconds:.1f} s"
    )


def run_add(args: argparse.Namespace) -> int:
    engine = _engine(args)
    cancel = threading.Event()
    printer = ProgressPrinter()
    try:
        with _sigint_sets(cancel):
            report = engine.add_folder(
                args.path, index=not args.no_index, progress=printer, cancel=cancel
            )
    finally:
        printer.finish()
        engine.kb.close()
    if report is None:
        return 0  # already covered: the event said by which folder
    print(f"watching {report.folder}")
    if not args.no_index:
        print(_summary(report))
    if report.cancelled:
        print("interrupted: what was indexed is kept; `desktop-rag watch` finishes the rest")
        return 130
    return 0


def run_remove(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        engine.remove_folder(args.path)
    finally:
        engine.kb.close()
    return 0


def _store(args: argparse.Namespace) -> FolderStore:
    return FolderStore(app_paths(args.data_dir).ensure().state_db)


def run_pause(args: argparse.Namespace) -> int:
    folder = _store(args).set_paused(args.path, True)
    print(f"paused {folder.path} (its index is kept)")
    return 0


def run_resume(args: argparse.Namespace) -> int:
    folder = _store(args).set_paused(args.path, False)
    print(f"resumed {folder.path} (`desktop-rag watch` syncs it)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    kb = open_knowledge_base(args.data_dir)
    try:
        folders = FolderStore(kb.paths.state_db).list()
        if not folders:
            print("no watched folders (add one with `desktop-rag folders add PATH`)")
        for f in folders:
            state = "paused" if f.paused else ("watching" if f.available else "unavailable")
            count = len(kb.file_records(Path(f.path)))
            print(f"{state:<12} {count:>6} files  {f.path}")
    finally:
        kb.close()
    return 0


def run_watch(args: argparse.Namespace) -> int:
    from desktop_rag.core.sync.loop import (
        FolderSummary,
        SyncListener,
        WatchLoop,
        WatchTiming,
    )

    class Printer(SyncListener):
        """The same loop as the app's; here its news goes to the terminal."""

        def __init__(self) -> None:
            self.bar = ProgressPrinter()

        def progress(self, folder: str, progress) -> None:
            self.bar(progress)

        def synced(self, summary: FolderSummary) -> None:
            self.bar.finish()

        def failed(self, folder: str, message: str) -> None:
            print(f"{'error':<11} {folder}  ({message})", flush=True)

    engine = _engine(args)
    stop = threading.Event()
    timing = WatchTiming(quiet_s=args.quiet, poll_s=args.poll)
    try:
        folders = [f.path for f in engine.folders.list()]
        if not folders:
            print("no watched folders (add one with `desktop-rag folders add PATH`)")
            return 1
        print(f"watching {len(folders)} folder(s); Ctrl-C to stop", flush=True)
        with _sigint_sets(stop):
            _ = engine.kb.embedder.dim  # load the model now, not on the first saved file
            WatchLoop(engine, timing, listener=Printer()).run(stop)
    finally:
        engine.kb.close()
    print("stopped", flush=True)
    return 0
