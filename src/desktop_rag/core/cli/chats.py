"""`desktop-rag chats list | export ID`: the conversations saved by the app."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from desktop_rag.core.chats.export import conversation_markdown
from desktop_rag.core.chats.history import History
from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.paths import app_paths


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("chats", help="list or export the app's saved conversations")
    sub = p.add_subparsers(dest="chats_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="every saved conversation, newest first")
    listing.set_defaults(func=run_list)
    export = sub.add_parser("export", help="one conversation as Markdown, with its sources")
    export.add_argument("id", type=int, help="the number shown by `chats list`")
    export.add_argument("-o", "--output", type=Path, help="write to this file (default: stdout)")
    export.set_defaults(func=run_export)


def _history(args: argparse.Namespace) -> History:
    return History.open(app_paths(args.data_dir).history_db)


def run_list(args: argparse.Namespace) -> int:
    history = _history(args)
    try:
        conversations = history.conversations()
        if not conversations:
            print("no saved conversations")
        for c in conversations:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
            print(f"{c.id:>5}  {when}  {c.message_count:>3} messages  {c.title}")
    finally:
        history.close()
    return 0


def run_export(args: argparse.Namespace) -> int:
    history = _history(args)
    try:
        conversation = history.conversation(args.id)
        if conversation is None:
            raise UserFacingError(f"no conversation {args.id} (see `desktop-rag chats list`)")
        text = conversation_markdown(conversation, history.messages(args.id))
    finally:
        history.close()
    if args.output is None:
        print(text, end="")
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0
