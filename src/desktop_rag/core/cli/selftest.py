"""`desktop-rag selftest`: check that this installation works end to end, offline."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop_rag.core.install import selftest


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "selftest",
        help="index a sample, search it and answer a question with the bundled models",
        description="Indexes the bundled sample folder into a throwaway data folder, searches "
        "it and answers a question with the bundled chat model; prints each step and "
        "'SELFTEST OK' or 'SELFTEST FAILED: <reason>'. Never touches your own data folder.",
    )
    p.add_argument(
        "--work-dir",
        metavar="DIR",
        type=Path,
        help="an empty folder for the sample copy and its index, kept afterwards "
        "(default: a temporary folder, removed afterwards)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.set_defaults(func=run_selftest)


def run_selftest(args: argparse.Namespace) -> int:
    return selftest.run(args.work_dir, keep=args.keep)
