"""`desktop-rag index PATH...`, `search QUERY`, `status`: the knowledge base from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_rag.core.path_keys import display_path
from desktop_rag.core.records import Progress

if TYPE_CHECKING:  # imports LanceDB: not for `--version` or `--help`
    from desktop_rag.core.knowledge_base import KnowledgeBase

BAR_WIDTH = 24


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("index", help="index files and folders (unchanged files are skipped)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file or folder")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="read again the files that failed before, even if they did not change",
    )
    p.set_defaults(func=run_index)

    p = subparsers.add_parser("search", help="find the passages that best match a query")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("-k", type=int, default=10, metavar="N", help="number of results (default 10)")
    add_folder_option(p)
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=run_search)

    p = subparsers.add_parser("status", help="what is indexed, and which files failed")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_status)


def add_folder_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--folder",
        action="append",
        default=[],
        metavar="DIR",
        help="only passages from files under this folder (repeat for several)",
    )


def open_knowledge_base(data_dir: str | None) -> KnowledgeBase:
    """The seam tests replace to run the commands with a fake embedder."""
    from desktop_rag.core.knowledge_base import KnowledgeBase

    return KnowledgeBase.open(data_dir)


class ProgressPrinter:
    """A one-line bar redrawn in place on a terminal; a line every few seconds otherwise."""

    def __init__(self, stream=None, interval_s: float = 5.0):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval_s = interval_s
        self._last = float("-inf")
        self._drawn = False

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if not self.tty and now - self._last < self.interval_s and p.phase != "done":
            return
        self._last = now
        filled = BAR_WIDTH * p.done // p.total if p.total else 0
        bar = "#" * filled + " " * (BAR_WIDTH - filled)
        name = Path(p.current).name if p.current else ""
        line = f"[{bar}] {p.done}/{p.total} files  {p.phase}  {name}".rstrip()
        if p.pages:
            line += f"  page {p.page:,}/{p.pages:,}"
        if self.tty:
            self.stream.write("\r" + line[:110].ljust(110))
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _user_path(text: str) -> Path:
    """A path typed by a person, spelled as the folder walk spells it: the folders on the way
    resolved (`~/notes` may be a link, macOS's /tmp is /private/tmp), a linked file kept
    under its own name."""
    path = Path(text).expanduser().absolute()
    if path.is_dir():
        return path.resolve()
    return path.parent.resolve() / path.name


def run_index(args: argparse.Namespace) -> int:
    kb = open_knowledge_base(args.data_dir)
    printer = ProgressPrinter()
    try:
        targets = [_user_path(p) for p in args.paths]
        report = kb.index(targets, progress=printer, retry_failed=args.retry_failed)
        printer.finish()
        if kb.building_vector_index:
            # A daemon thread: it would die with this process, so the build is waited for.
            print("building the vector index (minutes for a million chunks)", file=sys.stderr)
            kb.wait_for_vector_index()
    finally:
        printer.finish()
        kb.close()
    print(
        f"indexed {report.indexed} files, {report.unchanged} unchanged, "
        f"{len(report.skipped)} skipped; {report.chunks_added} chunks "
        f"({report.chunks_embedded} embedded) in {report.seconds:.1f} s"
    )
    for skipped in report.skipped:
        print(f"  skipped {display_path(skipped.path)}: {skipped.reason}")
    for partial in report.partial:
        print(f"  {display_path(partial.path)}: {partial.reason}")
    if report.cancelled:
        print("cancelled: the files finished so far are in the index")
    return 0


def run_search(args: argparse.Namespace) -> int:
    kb = open_knowledge_base(args.data_dir)
    try:
        hits = kb.search(args.query, k=args.k, folders=args.folder)
    finally:
        kb.close()
    if args.json:
        rows = [
            {
                "path": h.path,
                "page": h.page,
                "start": h.start,
                "end": h.end,
                "score": h.score,
                "heading_path": list(h.heading_path),
                "chunk_id": h.chunk_id,
                "text": h.text,
            }
            for h in hits
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no results (is anything indexed? see `desktop-rag status`)")
    for rank, h in enumerate(hits, 1):
        where = display_path(h.path) + (f" (page {h.page})" if h.page else "")
        snippet = " ".join(h.text.split())[:200]
        print(f"{rank:2}. {where}  [{h.score:.4f}]\n    {snippet}")
    return 0


def _folders(kb: KnowledgeBase) -> list[str] | None:
    """Watched folders (folder sync keeps them in the state database), if any were added."""
    if not kb.paths.state_db.exists():
        return None
    from desktop_rag.core.sync.folders import FolderStore

    try:
        return [folder.path for folder in FolderStore(kb.paths.state_db).list()]
    except Exception:  # status must still print if the folder list cannot be read
        return None


def run_status(args: argparse.Namespace) -> int:
    kb = open_knowledge_base(args.data_dir)
    try:
        st = kb.status()
        folders = _folders(kb)
    finally:
        kb.close()
    data = {
        "data_dir": str(kb.paths.data_dir),
        "files": st.files,
        "chunks": st.chunks,
        "errors": [{"path": e.path, "reason": e.reason} for e in st.errors],
        "embedder": st.embedder,
        "embedder_variant": st.embedder_variant,
        "index_bytes": st.index_bytes,
    }
    if folders is not None:
        data["folders"] = folders
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"data folder: {data['data_dir']}")
    if folders is not None:
        print(f"watched folders: {len(folders)}")
        for folder in folders:
            print(f"  {folder}")
    print(f"files: {st.files}   chunks: {st.chunks}   index size: {st.index_bytes / 1e6:.1f} MB")
    if st.embedder:
        print(f"embedding model: {st.embedder} (index created with {st.embedder_variant})")
    else:
        print("embedding model: (nothing indexed yet)")
    if st.errors:
        print(f"files that could not be indexed: {len(st.errors)}")
        for e in st.errors:
            print(f"  {display_path(e.path)}: {e.reason}")
    return 0
