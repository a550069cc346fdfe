"""Indexing throughput: the whole pipeline against the embedder alone, on the same chunks.

Indexes `../shared/corpus` (Markdown rust-book + 40 PDFs) into a temporary data folder
through `KnowledgeBase.index`, then encodes the very same chunk texts with
`SentenceTransformer.encode` (same batch size) and prints both rates, their ratio, the
time the pipeline spent inside the embedder, and peak memory.

    python benchmarks/index_throughput.py [--shared DIR] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from _common import SHARED, StderrProgress, peak_rss_mb
from desktop_rag.core import extract
from desktop_rag.core.chunking import embedding_text
from desktop_rag.core.embedder import SentenceTransformerEmbedder
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths, default_embedder_dir
from desktop_rag.core.settings import Settings


def time_extraction() -> dict[str, float]:
    """Add up the wall time the indexer spends in `Extractor.extract` (PDFs: in a child)."""
    totals = {"seconds": 0.0, "files": 0}
    original = extract.Extractor.extract

    def timed(self, path, on_page=None):
        started = time.perf_counter()
        try:
            return original(self, path, on_page)
        finally:
            totals["seconds"] += time.perf_counter() - started
            totals["files"] += 1

    extract.Extractor.extract = timed
    return totals


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished children (PDF worker)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class TimedEmbedder:
    """Wraps the real embedder and adds up the seconds spent inside `embed`."""

    def __init__(self, inner: SentenceTransformerEmbedder):
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def token_offsets(self, text: str):
        return self.inner.token_offsets(text)

    def embed(self, texts):
        started = time.perf_counter()
        out = self.inner.embed(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="the ../shared folder")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    args = parser.parse_args(argv)
    corpus = args.shared / "corpus"
    targets = [corpus / "rust-book", corpus / "pdf"]
    if not all(t.is_dir() for t in targets):
        print(f"corpus not found in {corpus}", file=sys.stderr)
        return 2
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()

    extraction = time_extraction()
    real = SentenceTransformerEmbedder(default_embedder_dir())
    real.embed(["warm up: load the model before timing"])
    embedder = TimedEmbedder(real)
    settings = Settings()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rag-throughput-") as tmp:
        kb = KnowledgeBase(AppPaths(Path(tmp)), settings, embedder=embedder)
        cpu0, started = cpu_seconds(), time.perf_counter()
        report = kb.index(targets, progress=StderrProgress("index"))
        pipeline_s = time.perf_counter() - started
        pipeline_cpu = cpu_seconds() - cpu0
        rows = kb.store.scan_chunks(["text", "heading_path"]).to_pylist()
        texts = [embedding_text(r["text"], tuple(r["heading_path"] or ())) for r in rows]
        index_mb = kb.status().index_bytes / 1e6
        kb.close()

    cpu0, started = cpu_seconds(), time.perf_counter()
    real.model.encode(texts, batch_size=real.batch_size, normalize_embeddings=True)
    raw_s = time.perf_counter() - started
    raw_cpu = cpu_seconds() - cpu0

    files = report.indexed + len(report.skipped)
    pipeline_rate = report.chunks_added / pipeline_s
    raw_rate = len(texts) / raw_s
    print(f"corpus: {corpus} ({files} files: {report.indexed} indexed, "
          f"{len(report.skipped)} skipped)")  # fmt: skip
    for skipped in report.skipped:
        print(f"  skipped {Path(skipped.path).name}: {skipped.reason}")
    print(f"chunks: {report.chunks_added} written, {report.chunks_embedded} embedded "
          f"(identical chunks embedded once); chunk_tokens={settings.chunk_tokens}, "
          f"overlap={settings.chunk_overlap}; index {index_mb:.1f} MB")  # fmt: skip
    print(f"pipeline (KnowledgeBase.index): {pipeline_s:7.1f} s  {pipeline_rate:6.1f} chunks/s")
    print(f"  of which inside the embedder:  {embedder.seconds:7.1f} s "
          f"({embedder.seconds / pipeline_s:.0%}); everything else "
          f"{pipeline_s - embedder.seconds:.1f} s, of which extraction "
          f"{extraction['seconds']:.1f} s ({extraction['files']} files)")  # fmt: skip
    print(f"raw SentenceTransformer.encode:  {raw_s:7.1f} s  {raw_rate:6.1f} chunks/s "
          f"(same {len(texts)} texts, batch_size={real.batch_size})")  # fmt: skip
    print(f"ratio pipeline / raw: {pipeline_rate / raw_rate:.2f} (wall clock)")
    print(f"CPU seconds (this process + PDF child): pipeline {pipeline_cpu:.1f}, raw encode "
          f"{raw_cpu:.1f}; ratio by CPU time {raw_cpu / pipeline_cpu:.2f}")  # fmt: skip
    print(f"load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"on {os.cpu_count()} CPUs (other processes slow both timings)")  # fmt: skip
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    if args.tracemalloc:
        import tracemalloc

        _current, peak = tracemalloc.get_traced_memory()
        print(f"peak Python allocations (tracemalloc): {peak / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
