"""Bringing files into the index: walk, skip what is unchanged, extract, chunk, embed, write.

Embedding dominates the cost, so everything else is arranged around it: files whose size
and mtime (or content hash) are unchanged cost nothing, vectors of unchanged chunks are
reused by content hash, texts of many files are embedded together in length-sorted
slices, and rows are written in large batches. Files are read (extracted, chunked) on a
thread of their own a bounded number of files ahead (`read_ahead`), so PDF extraction in
its child process fills the time the embedder would otherwise wait. Cancellation is checked
between files and between embedding slices; a cancelled run writes the files it finished
and drops the rest, so the index is always consistent.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from desktop_rag.core.embedding.embedder import Embedder, embedder_variant
from desktop_rag.core.errors import ExtractionError
from desktop_rag.core.index.store import Store
from desktop_rag.core.ingest import extract
from desktop_rag.core.ingest.chunking import chunk_document, chunk_limits, embedding_text
from desktop_rag.core.ingest.eta import EtaClock
from desktop_rag.core.ingest.extract.reading import os_reason
from desktop_rag.core.ingest.ignore import IgnoreRules
from desktop_rag.core.ingest.read_ahead import ReadAhead
from desktop_rag.core.ingest.walk import LOOP_REASON, scan_folder
from desktop_rag.core.records import Chunk, Document, FileRecord, IndexReport, Progress, SkippedFile
from desktop_rag.core.settings import Settings

ProgressFn = Callable[[Progress], None]


def hash_file(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (hex): the `content_hash` of its FileRecord."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _stat(path: Path) -> tuple[int, int]:
    """(size, mtime_ns); a dangling link or loop gets (0, 0) so its visit reports why."""
    try:
        st = path.stat()
    except OSError:
        return (0, 0)
    return (st.st_size, st.st_mtime_ns)


def walk_folder(
    root: Path, rules: IgnoreRules, cancel: threading.Event | None = None
) -> tuple[dict[str, tuple[int, int]], list[SkippedFile]]:
    """Supported files under `root` with (size, mtime_ns), and what could not be walked.

    The walk is sync's too (`walk.scan_folder`): ignore rules, virtual environments, each
    real folder entered once. Broken links and link loops come back with (0, 0) so that
    their visit records why; folders that could not be listed and links to folders already
    walked are returned as problems.
    """
    scan = scan_folder(str(root), rules, cancel=cancel)
    files = {path: (f.size, f.mtime_ns) for path, f in scan.files.items()}
    problems = [SkippedFile(path, reason) for path, reason in scan.errors]
    problems += [SkippedFile(path, LOOP_REASON) for path in scan.loops]
    return files, problems


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexerTuning:
    embed_group: int = 2048  # texts gathered (across files) before embedding them
    # Texts per embedder call: cancel (and closing the window) waits for at most one call.
    # The group is sorted by length, so 32 loses nothing against 128 (measured 21.5 vs
    # 21.6 chunks/s) and a cancel takes about 1.5 s on 2 cores instead of 6.
    embed_slice: int = 32
    # Files read (extracted, chunked) ahead of the embedder on a thread of their own, at most
    # this many files and chunks waiting: a slow embedder never pulls a whole folder into
    # memory. 0 files: read each file in turn on the calling thread (no overlap).
    read_ahead_files: int = 8
    read_ahead_texts: int = 4096
    # When no file read ahead is waiting (the reader is in a long PDF), embed the pending
    # texts once this many have gathered instead of idling until `embed_group` is full.
    embed_early: int = 256
    write_rows: int = 4000  # rows buffered before a LanceDB write
    write_seconds: float = 30.0  # ... or this long since the last write


@dataclass
class _FileWork:
    record: FileRecord
    chunks: list[Chunk]
    vectors: list[np.ndarray] = field(default_factory=list)  # set once embedded


@dataclass(frozen=True)
class _Read:
    """What reading one file came to, applied to the run by the thread that embeds.

    `outcome`: "unchanged" (nothing to do), "restat" (same bytes, new stat: `record` only),
    "failed" (`record` and `reason`), "chunked" (`record`, `chunks`, `partial` note) or
    "dropped" (a cancel cut the extraction short: the file did nothing wrong).
    """

    outcome: str
    record: FileRecord | None = None
    chunks: tuple[Chunk, ...] = ()
    reason: str = ""
    partial: str = ""

    @property
    def texts(self) -> int:
        return len(self.chunks)


class Indexer:
    """One run over some targets. Not reusable; build one per `KnowledgeBase.index` call."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        settings: Settings,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        tuning: IndexerTuning = IndexerTuning(),
        limits: extract.ExtractLimits | None = None,
        retry_failed: bool = False,
    ):
        self.store = store
        self.retry_failed = retry_failed
        self.embedder = embedder
        self.settings = settings
        self.tuning = tuning
        self.limits = limits or extract.ExtractLimits(
            max_bytes=settings.max_file_mb * 1024 * 1024,
            pdf_timeout_s=settings.pdf_timeout_s,
            pdf_memory_mb=settings.pdf_memory_mb,
        )
        self._progress = progress
        self._cancel = cancel or threading.Event()
        self._rules = IgnoreRules.from_patterns(settings.ignore_patterns)
        self._pending: list[_FileWork] = []  # chunked, waiting for vectors
        self._pending_texts = 0
        self._ready: list[_FileWork] = []  # embedded, waiting to be written
        self._ready_rows = 0
        self._records_only: list[FileRecord] = []  # unchanged content, new stat
        self._last_write = time.monotonic()
        self._skipped: list[SkippedFile] = []
        self._partial: list[SkippedFile] = []
        self._counts = {"indexed": 0, "unchanged": 0, "chunks": 0, "embedded": 0}
        self._started = time.monotonic()
        self._visited = 0  # files read (or found unchanged), embedded or not
        self._embedded_share = 0.0  # of the pending group's texts, while it is embedded
        self._eta = EtaClock()
        self._chunks_seen = 0  # of the files read so far
        self._chunks_finished = 0  # of those, chunks that have their vectors
        self._total = 0
        self._chunk_limits: tuple[int, int] | None = None  # (size, overlap), see chunk_limits
        # The reader thread reports progress too: the counts `_report` reads change, and the
        # callback runs, under this lock, so `done` never goes backwards between threads.
        self._lock = threading.RLock()
        self.read_ahead: ReadAhead | None = None  # kept after the run for its statistics

    # -- the run --------------------------------------------------------------------

    def run(self, targets: Sequence[Path]) -> IndexReport:
        """Index files and folders on disk."""
        self._prepare()
        files = self._scan(targets)
        self._total = len(files)
        records = {r.path: r for r in self.store.get_files()}
        tuning = self.tuning
        with extract.Extractor(self.limits) as extractor, _abort_on_cancel(self._cancel, extractor):
            reads = self._read_files(extractor, files, records)
            if tuning.read_ahead_files <= 0:
                self._consume(reads, lambda: True)
            else:
                # Joined before the extractor closes: the reader thread uses its PDF child.
                with ReadAhead(
                    reads, tuning.read_ahead_files, tuning.read_ahead_texts, self._cancel
                ) as ahead:
                    self.read_ahead = ahead
                    try:
                        self._consume(ahead, ahead.ready)
                    except BaseException:  # leaving now: the reader's PDF must not hold us
                        extractor.abort()
                        raise
        return self._finish()

    def _read_files(
        self, extractor, files: dict[str, tuple[int, int]], records: dict[str, FileRecord]
    ) -> Iterator[_Read]:
        """One `_Read` per file, in order; runs on the reader thread when reading ahead."""
        for path, (size, mtime_ns) in files.items():
            if self._cancelled():
                return
            self._report("extracting", path)
            try:
                yield self._read_file(extractor, path, size, mtime_ns, records.get(path))
            except Exception as exc:  # one file's surprise is that file's error alone
                log.warning("indexing %s failed", path, exc_info=True)
                record = FileRecord(path, size, mtime_ns, "", "error")
                yield _Read("failed", record, reason=_unexpected(exc))

    def _consume(self, reads: Iterable[_Read], more_ready: Callable[[], bool]) -> None:
        """Apply reads in order, embedding and writing as they gather (the calling thread)."""
        for read in reads:
            if self._cancelled():
                break
            try:
                self._apply(read)
            except Exception as exc:  # as above: that file's error alone
                log.warning("indexing %s failed", read.record and read.record.path, exc_info=True)
                if read.record is not None:
                    self._fail(read.record, _unexpected(exc))
            self._step(more_ready())

    def run_documents(self, docs: Iterable[Document], total: int = 0) -> IndexReport:
        """Index documents built in memory (benchmarks, samples); `doc.path` is their key.

        A document whose text is unchanged since it was last indexed is skipped.
        """
        self._prepare()
        self._total = total
        records = {r.path: r for r in self.store.get_files()}
        for doc in docs:
            if self._cancelled():
                break
            data = doc.text.encode("utf-8", "surrogatepass")
            digest = hashlib.sha256(data).hexdigest()
            old = records.get(doc.path)
            if old is not None and old.content_hash == digest and old.status == "indexed":
                self._apply(_Read("unchanged"))
            else:
                record = FileRecord(doc.path, len(data), 0, digest, "indexed")
                self._apply(self._chunk(record, doc))
            self._step(True)
        return self._finish()

    def _prepare(self) -> None:
        if self.store.ready:
            self.store.check_embedder(self.embedder.name)
            self.store.ensure_scalar_indexes()
        else:
            embedder = self.embedder  # the runtime it runs on goes in a new index's manifest
            self.store.ensure_tables(embedder.name, embedder.dim, embedder_variant(embedder))
        # Before any reader thread starts: it chunks with these.
        self._chunk_limits = chunk_limits(
            self.settings.chunk_tokens, self.settings.chunk_overlap, self.embedder.max_tokens
        )

    def _step(self, more_ready: bool) -> None:
        """After each file: embed and write once enough has gathered.

        `more_ready`: another file is read and waiting. When none is, the reader is busy
        (a long PDF) and the embedder would idle, so a smaller group is embedded now.
        """
        with self._lock:
            self._visited += 1
        pending = self._pending_texts
        if pending >= self.tuning.embed_group or (
            not more_ready and pending >= self.tuning.embed_early
        ):
            self._embed_pending()
        self._maybe_write()

    def _finish(self) -> IndexReport:
        if not self._cancelled():
            self._embed_pending()
        self._write()
        if self._counts["chunks"] or self._counts["indexed"]:
            self._report("optimizing", "")
            self.store.optimize()
        self._report("done", "")
        return IndexReport(
            indexed=self._counts["indexed"],
            unchanged=self._counts["unchanged"],
            chunks_added=self._counts["chunks"],
            chunks_embedded=self._counts["embedded"],
            seconds=time.monotonic() - self._started,
            cancelled=self._cancelled(),
            skipped=tuple(self._skipped),
            partial=tuple(self._partial),
        )

    def _cancelled(self) -> bool:
        return self._cancel.is_set()

    def _scan(self, targets: Sequence[Path]) -> dict[str, tuple[int, int]]:
        """Every file to look at, with (size, mtime_ns), in a stable order."""
        found: dict[str, tuple[int, int]] = {}
        for target in targets:
            path = Path(os.path.abspath(Path(target).expanduser()))
            self._report("scanning", str(path))
            if path.is_dir():
                path = path.resolve()
                files, problems = walk_folder(path, self._rules, self._cancel)
                found.update(files)
                self._skipped.extend(problems)
            elif path.is_file() or path.is_symlink():
                # Under its own name, a link included (the folder walk's key for it); the
                # stat and the reads follow the link to the content.
                found[str(path)] = _stat(path)
            else:
                self._skipped.append(SkippedFile(str(path), "no such file or folder"))
        return dict(sorted(found.items()))

    def _read_file(
        self, extractor, path: str, size: int, mtime_ns: int, old: FileRecord | None
    ) -> _Read:
        """Read, extract and chunk one file; touches no state of the run but progress."""
        # A retry reads again the files that failed and those read only in part.
        retry = self.retry_failed and old is not None and (old.status == "error" or bool(old.error))
        if old is not None and (old.size, old.mtime_ns) == (size, mtime_ns) and not retry:
            return _Read("unchanged")
        blank = FileRecord(path, size, mtime_ns, "", "error")
        if size > extractor.limits.max_bytes:
            return self._extract_and_chunk(extractor, blank)  # refused by size, unread
        try:
            digest = hash_file(path)
        except OSError as exc:
            return _Read("failed", blank, reason=os_reason(exc, path))
        record = FileRecord(path, size, mtime_ns, digest, "indexed")
        if old is not None and old.content_hash == digest and not retry:
            # Same bytes, new stat (touched, copied back): no extraction, no embedding.
            return _Read(
                "restat",
                FileRecord(
                    path, size, mtime_ns, digest, old.status, old.error, old.chunk_count, old.kind
                ),
            )
        return self._extract_and_chunk(extractor, record)

    def _extract_and_chunk(self, extractor, record: FileRecord) -> _Read:
        def on_page(number: int, total: int) -> None:
            if number % 25 == 0 or number == total:  # a long PDF shows its pages going by
                self._report("extracting", record.path, page=number, pages=total)

        try:
            doc = extractor.extract(Path(record.path), on_page=on_page)
        except ExtractionError as exc:
            if self._cancelled():  # a cancel cut it short: the file did nothing wrong
                return _Read("dropped")
            return _Read("failed", record, reason=exc.reason)
        if doc.partial:  # the pages read are indexed; the note says what is missing
            record = replace(record, error=f"partly indexed: {doc.partial}")
        return self._chunk(record, doc)

    def _chunk(self, record: FileRecord, doc: Document) -> _Read:
        assert self._chunk_limits is not None  # set by _prepare
        chunks = chunk_document(doc, self.embedder.token_offsets, *self._chunk_limits)
        if not chunks:
            return _Read("failed", record, reason="no text found in the file")
        record = FileRecord(
            record.path, record.size, record.mtime_ns, record.content_hash, "indexed",
            record.error, len(chunks), doc.kind,
        )  # fmt: skip
        partial = (record.error or "") if doc.partial else ""  # the note set above
        return _Read("chunked", record, tuple(chunks), partial=partial)

    def _apply(self, read: _Read) -> None:
        """Add one file's read to the run: counts, failures, chunks waiting for vectors."""
        if read.outcome == "unchanged":
            self._counts["unchanged"] += 1
            return
        if read.outcome == "dropped":
            return
        record = read.record
        assert record is not None  # every other outcome carries the file's record
        if read.outcome == "restat":
            self._records_only.append(record)
            self._counts["unchanged"] += 1
        elif read.outcome == "failed":
            self._fail(record, read.reason)
        elif read.outcome == "chunked":
            if read.partial:
                self._partial.append(SkippedFile(record.path, read.partial))
            with self._lock:
                chunks = list(read.chunks)
                self._pending.append(_FileWork(record, chunks))
                self._pending_texts += len(chunks)
                self._chunks_seen += len(chunks)

    def _fail(self, record: FileRecord, reason: str) -> None:
        failed = FileRecord(record.path, record.size, record.mtime_ns, record.content_hash,
                            "error", reason, 0, record.kind)  # fmt: skip
        self._skipped.append(SkippedFile(record.path, reason))
        self._ready.append(_FileWork(failed, []))

    # -- embedding and writing ------------------------------------------------------

    def _embed_pending(self) -> None:
        """Give every pending chunk a vector: reused by content hash, else embedded."""
        if not self._pending:
            return
        wanted = {c.content_hash for work in self._pending for c in work.chunks}
        known = self.store.vectors_by_content_hash(None, wanted)
        texts: dict[str, str] = {}  # content hash -> text to embed (identical chunks once)
        for work in self._pending:
            for chunk in work.chunks:
                if chunk.content_hash not in known:
                    texts.setdefault(
                        chunk.content_hash, embedding_text(chunk.text, chunk.heading_path)
                    )
        order = sorted(texts, key=lambda h: len(texts[h]), reverse=True)
        step = self.tuning.embed_slice
        for i in range(0, len(order), step):
            with self._lock:
                self._embedded_share = i / len(order)
            self._report("embedding", self._pending[-1].record.path)  # waits while paused
            if self._cancelled():
                return
            part = order[i : i + step]
            vectors: np.ndarray | list[np.ndarray]
            try:
                vectors = self.embedder.embed([texts[h] for h in part])
            except Exception:  # find the text the model refuses: embed the slice one by one
                log.warning("embedding a slice failed; retrying text by text", exc_info=True)
                vectors, part = self._embed_one_by_one(part, texts)
            known.update(zip(part, vectors, strict=True))
            self._counts["embedded"] += len(part)
        for work in self._pending:
            missing = [c for c in work.chunks if c.content_hash not in known]
            if missing:
                self._fail(work.record, "the embedding model could not read part of its text")
                continue
            work.vectors = [known[c.content_hash] for c in work.chunks]
            self._ready.append(work)
            self._ready_rows += len(work.chunks)
        with self._lock:
            self._chunks_finished += self._pending_texts
            self._pending = []
            self._pending_texts = 0
            self._embedded_share = 0.0

    def _embed_one_by_one(
        self, part: list[str], texts: dict[str, str]
    ) -> tuple[list[np.ndarray], list[str]]:
        """(vectors, hashes) of the texts the model takes; the others are left out, and the
        files they belong to fail alone."""
        vectors: list[np.ndarray] = []
        done: list[str] = []
        for digest in part:
            try:
                vectors.append(self.embedder.embed([texts[digest]])[0])
                done.append(digest)
            except Exception:
                log.warning("the embedding model refused one text", exc_info=True)
        return vectors, done

    def _maybe_write(self) -> None:
        overdue = time.monotonic() - self._last_write >= self.tuning.write_seconds
        if self._ready_rows >= self.tuning.write_rows or (overdue and self._ready):
            self._write()
            # Fold what piled up into the keyword index during a long run (only when enough
            # has: `Store.needs_optimize`); rows outside it are searched by brute force.
            self.store.optimize()

    def _write(self) -> None:
        if self._records_only:
            try:
                self.store.put_records(self._records_only)
            except Exception:  # a batch is all or nothing: find the record that spoils it
                log.warning("saving records failed; retrying one by one", exc_info=True)
                for record in self._records_only:
                    self._save_alone(record, [])
            self._records_only = []
        if self._ready:
            self._report("writing", self._ready[-1].record.path)
            ready, self._ready, self._ready_rows = self._ready, [], 0
            items = [(w.record, list(zip(w.chunks, w.vectors, strict=True))) for w in ready]
            try:
                self.store.write_files(items)
                saved = ready
            except Exception:  # one file must not cost the others their place in the index
                log.warning("a batched write failed; writing file by file", exc_info=True)
                saved = [w for w, item in zip(ready, items, strict=True) if self._save_alone(*item)]
            for work in saved:
                if work.record.status == "indexed":
                    self._counts["indexed"] += 1
                    self._counts["chunks"] += len(work.chunks)
        self._last_write = time.monotonic()

    def _save_alone(self, record: FileRecord, chunks: list) -> bool:
        """Write one file; if even that fails, record why (or, failing that, report it)."""
        try:
            if chunks:
                self.store.write_files([(record, chunks)])
            else:
                self.store.put_records([record])
            return True
        except Exception as exc:
            log.warning("saving %s in the index failed", record.path, exc_info=True)
            reason = f"could not be saved in the index ({_unexpected(exc)})"
            self._skipped.append(SkippedFile(record.path, reason))
            failed = FileRecord(record.path, record.size, record.mtime_ns, "", "error", reason)
            with contextlib.suppress(Exception):
                self.store.put_records([failed])
            return False

    def _report(self, phase: str, current: str, *, page: int = 0, pages: int = 0) -> None:
        """Progress from either thread; the callback may block (a paused job holds still)."""
        if self._progress is None:
            return
        with self._lock:
            self._report_locked(self._progress, phase, current, page, pages)

    def _report_locked(
        self, progress: ProgressFn, phase: str, current: str, page: int, pages: int
    ) -> None:
        # A file is done once it has its vectors. Embedding takes most of the time, so a count
        # of files read would race to the end of each group and then stand still for minutes.
        pending = len(self._pending)
        done = self._visited - pending + int(pending * self._embedded_share)
        # Time goes by chunks, not files: guess the unread files' chunks from the read ones.
        chunks_done = self._chunks_finished + self._pending_texts * self._embedded_share
        per_file = self._chunks_seen / self._visited if self._visited else 0.0
        chunks_left = self._chunks_seen - chunks_done + (self._total - self._visited) * per_file
        now = time.monotonic()
        eta = self._eta.estimate(chunks_done, chunks_left, now)
        rate = done / max(now - self._started, 1e-6)
        progress(Progress(done, self._total, current, phase, rate, eta, page, pages))


def _unexpected(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"unexpected error: {type(exc).__name__}" + (f": {text[:200]}" if text else "")


@contextlib.contextmanager
def _abort_on_cancel(cancel: threading.Event, extractor: extract.Extractor) -> Iterator[None]:
    """Cancel (pause, remove, quit) cuts a running PDF extraction short instead of waiting
    for it: the PDF child may take up to its time limit on one file."""
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if cancel.wait(0.05):
                extractor.abort()
                return

    thread = threading.Thread(target=watch, name="desktop-rag-cancel-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(1.0)
