"""`desktop-rag`: everything the app does, headless. A public contract: scripts and tests use it.

Each group of subcommands lives in `core/cli/<group>.py` and exposes
`register(subparsers)`; a subcommand stores its handler as `func(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import sys
from collections.abc import Sequence

from desktop_rag import __version__
from desktop_rag.core.errors import UserFacingError

COMMAND_GROUPS = ("index", "answer", "folders", "chats", "selftest")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="desktop-rag",
        description="Chat with the folders on your computer, fully offline.",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the index, settings and history live (default: $DESKTOP_RAG_HOME "
        "or the platform's user data folder)",
    )
    parser.add_argument("--version", action="version", version=f"desktop-rag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        try:
            module = importlib.import_module(f"desktop_rag.core.cli.{group}")
        except ModuleNotFoundError as exc:
            if exc.name != f"desktop_rag.core.cli.{group}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The model and PDF children are spawned; a frozen CLI must not re-run argparse in them.
    multiprocessing.freeze_support()
    # A name that is not UTF-8 must never end a command with an encoding error.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
