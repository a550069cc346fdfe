"""Indexing throughput: our pipeline against the seed's LangChain pipeline and raw `encode`.

On `../shared/corpus/pdf` (40 PDFs, 348 pages), in the same run and alternating order:

- ours: `Indexer` into a temporary data folder (the app's embedder, loaded before timing);
- the seed: PyPDFLoader + RecursiveCharacterTextSplitter(1000/100) + HuggingFaceEmbeddings
  (the same local MiniLM folder) + Chroma, in `.bench/seed-venv` (made on first use, see
  seed_venv.py), timing itself in a subprocess (seed_pipeline.py);

then ours once more reading files in turn (no read-ahead) to show what overlap gains, and
raw `SentenceTransformer.encode` of our very chunk texts. Prints pages/s and chunks/s of
each, the ratio ours/seed, what each pipeline's chunks look like, where our time goes,
CPU seconds and peak memory.

    python benchmarks/index_throughput.py [--shared DIR] [--repeats N] [--no-seed]
        [--no-sequential] [--raw-corpus pdf|all] [--embedder-backend torch|onnx|auto]
        [--tracemalloc]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import SHARED, StderrProgress, peak_rss_mb
from desktop_rag.core.embedding.embedder import SentenceTransformerEmbedder
from desktop_rag.core.ingest import extract
from desktop_rag.core.ingest.chunking import embedding_text
from desktop_rag.core.ingest.indexer import Indexer, IndexerTuning
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
    """CPU time of this process (all threads) and of its finished children (PDF worker,
    the seed's subprocess)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class TimedEmbedder:
    """Wraps the real embedder and adds up the seconds spent inside `embed`."""

    def __init__(self, inner):
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


def make_settings(backend: str | None) -> Settings:
    """Default settings; with `backend`, that embedder runtime (Settings.embedder_backend)."""
    return Settings() if backend is None else Settings(embedder_backend=backend)


def page_count(folder: Path) -> int:
    """Pages of every PDF under `folder` (pypdf), outside any timing."""
    from pypdf import PdfReader

    return sum(len(PdfReader(pdf).pages) for pdf in sorted(folder.rglob("*.pdf")))


def spread(values: list[float]) -> dict[str, float]:
    values = values or [0.0]
    return {
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def run_ours(targets, settings, embedder: TimedEmbedder, tuning: IndexerTuning, label: str):
    """One indexing run into a fresh data folder; timings and the chunks it wrote."""
    extraction = EXTRACTION
    extraction["seconds"], extraction["files"] = 0.0, 0  # time_extraction adds to these
    embedder.seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="rag-throughput-") as tmp:
        kb = KnowledgeBase(AppPaths(Path(tmp)), settings, embedder=embedder)
        indexer = Indexer(
            kb.store, embedder, settings, progress=StderrProgress(label), tuning=tuning
        )
        cpu0, started = cpu_seconds(), time.perf_counter()
        report = indexer.run(targets)
        wall = time.perf_counter() - started
        cpu = cpu_seconds() - cpu0
        rows = kb.store.scan_chunks(["text", "heading_path"]).to_pylist()
        index_mb = kb.status().index_bytes / 1e6
        kb.close()
    ahead = indexer.read_ahead
    return {
        "wall": wall,
        "cpu": cpu,
        "report": report,
        "rows": rows,
        "index_mb": index_mb,
        "extract_s": extraction["seconds"],
        "extract_files": extraction["files"],
        "embed_s": embedder.seconds,
        "waited_s": ahead.waited_s if ahead else None,
        "peak": (ahead.peak_items, ahead.peak_weight) if ahead else None,
    }


def run_seed(python: Path, model_dir: Path, folder: Path) -> dict:
    """The seed pipeline in its own venv; its JSON, plus its CPU seconds."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)  # nothing of the project's venv or source leaks in
    cpu0 = cpu_seconds()
    done = subprocess.run(
        [str(python), str(SEED_SCRIPT), str(model_dir), str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the seed pipeline failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["cpu"] = cpu_seconds() - cpu0  # includes loading its model (not timed)
    print(f"  [seed] done in {result['seconds']:.1f} s", file=sys.stderr, flush=True)
    return result


EXTRACTION = time_extraction()
SEED_SCRIPT = Path(__file__).with_name("seed_pipeline.py")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="the ../shared folder")
    parser.add_argument("--repeats", type=int, default=2, help="runs of ours and of the seed")
    parser.add_argument("--no-seed", action="store_true", help="skip the LangChain pipeline")
    parser.add_argument(
        "--no-sequential", action="store_true", help="skip the run without read-ahead"
    )
    parser.add_argument(
        "--raw-corpus",
        choices=("pdf", "all"),
        default="pdf",
        help="raw encode of the PDF run's chunks, or of a run over rust-book + pdf as before",
    )
    parser.add_argument(
        "--embedder-backend",
        choices=("torch", "onnx", "auto"),
        default=None,
        help="Settings.embedder_backend for our pipeline (default: the app's)",
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    args = parser.parse_args(argv)
    corpus = args.shared / "corpus"
    pdf = corpus / "pdf"
    if not pdf.is_dir() or (args.raw_corpus == "all" and not (corpus / "rust-book").is_dir()):
        print(f"corpus not found in {corpus}", file=sys.stderr)
        return 2
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()

    settings = make_settings(args.embedder_backend)
    model_dir = Path(settings.embedder or default_embedder_dir())
    with tempfile.TemporaryDirectory(prefix="rag-embedder-") as tmp:
        # The app's own choice of embedder for these settings (backend included).
        inner = KnowledgeBase(AppPaths(Path(tmp)), settings).embedder
    inner.embed(["warm up: load the model before timing"])
    embedder = TimedEmbedder(inner)
    seed_python = None
    if not args.no_seed:
        from seed_venv import seed_python as make_seed_python

        seed_python = make_seed_python()
    pages = page_count(pdf)
    # The PDFs alone, as the seed loads them (the folder also holds two README.md files).
    pdfs = sorted(pdf.rglob("*.pdf"))
    load_before = os.getloadavg()[0]

    ours: list[dict] = []
    seeds: list[dict] = []
    for repeat in range(args.repeats):
        # Alternating order: a slow spell of the machine does not always fall on one side.
        steps = ["ours", "seed"] if repeat % 2 == 0 else ["seed", "ours"]
        for step in steps:
            if step == "ours":
                ours.append(run_ours(pdfs, settings, embedder, IndexerTuning(), "ours"))
            elif seed_python is not None:
                seeds.append(run_seed(seed_python, model_dir, pdf))
    sequential = None
    if not args.no_sequential:
        in_turn = IndexerTuning(read_ahead_files=0)
        sequential = run_ours(pdfs, settings, embedder, in_turn, "ours, in turn")

    # Raw encode of the same chunk texts (the established pipeline/raw comparison).
    raw_run = ours[-1]
    if args.raw_corpus == "all":
        raw_run = run_ours(
            [corpus / "rust-book", pdf], settings, embedder, IndexerTuning(), "ours, all"
        )
    texts = [embedding_text(r["text"], tuple(r["heading_path"] or ())) for r in raw_run["rows"]]
    raw_model = inner if isinstance(inner, SentenceTransformerEmbedder) else None
    raw_model = raw_model or SentenceTransformerEmbedder(model_dir)
    raw_model.embed(["warm up"])
    cpu0, started = cpu_seconds(), time.perf_counter()
    raw_model.model.encode(texts, batch_size=raw_model.batch_size, normalize_embeddings=True)
    raw_s = time.perf_counter() - started
    raw_cpu = cpu_seconds() - cpu0

    # -- report -----------------------------------------------------------------------
    first = ours[0]["report"]
    chunks = first.chunks_added
    print(f"corpus: {len(pdfs)} PDFs in {pdf} ({pages} pages; ours: {first.indexed} indexed, "
          f"{len(first.skipped)} skipped)")  # fmt: skip
    for skipped in first.skipped:
        print(f"  skipped {Path(skipped.path).name}: {skipped.reason}")
    print(f"embedder: {inner.name} ({type(inner).__name__}"
          f"{', backend ' + args.embedder_backend if args.embedder_backend else ''})")  # fmt: skip
    our_chars = [len(r["text"]) for r in ours[0]["rows"]]
    our_tokens = [len(inner.token_offsets(r["text"])) for r in ours[0]["rows"]]
    c = spread(our_chars)
    print(f"ours:  {chunks} chunks (chunk_tokens={settings.chunk_tokens}, overlap="
          f"{settings.chunk_overlap}); chars a chunk mean {c['mean']:.0f}, median "
          f"{c['median']:.0f}, min {c['min']:.0f}, max {c['max']:.0f}; word pieces mean "
          f"{statistics.fmean(our_tokens):.0f}, max {max(our_tokens)}")  # fmt: skip
    if seeds:
        s, t = seeds[0], seeds[0]["tokens"]
        print(f"seed:  {s['chunks']} chunks from {s['pages']} page documents "
              f"({s['empty_pages']} empty; RecursiveCharacterTextSplitter 1000/100 chars); "
              f"chars a chunk mean {s['chars']['mean']:.0f}, median {s['chars']['median']:.0f}, "
              f"min {s['chars']['min']}, max {s['chars']['max']}; word pieces mean "
              f"{t['mean']:.0f}, max {t['max']}, {t['over_limit']} over the model's {t['limit']} "
              "(cut)")  # fmt: skip
        print(f"       {', '.join(f'{k} {v}' for k, v in s['versions'].items())}")
    print()
    print("run                      wall s   pages/s  chunks/s   CPU s")
    for i, run in enumerate(ours, start=1):
        w = run["wall"]
        print(f"ours #{i:<18} {w:8.1f} {pages / w:9.2f} {run['report'].chunks_added / w:9.1f} "
              f"{run['cpu']:7.1f}")  # fmt: skip
    for i, run in enumerate(seeds, start=1):
        w = run["seconds"]
        model_s = run["load_model_s"]
        print(f"seed #{i:<18} {w:8.1f} {run['pages'] / w:9.2f} {run['chunks'] / w:9.1f} "
              f"{run['cpu']:7.1f}  (load+split {run['load_s']:.1f} s, embed+Chroma "
              f"{run['store_s']:.1f} s; + {model_s:.1f} s model load untimed)")  # fmt: skip
    if sequential is not None:
        w = sequential["wall"]
        print(f"{'ours, read in turn':<24} {w:8.1f} {pages / w:9.2f} "
              f"{sequential['report'].chunks_added / w:9.1f} {sequential['cpu']:7.1f}")  # fmt: skip
    best_ours = min(r["wall"] for r in ours)
    med_ours = statistics.median(r["wall"] for r in ours)
    if seeds:
        best_seed = min(r["seconds"] for r in seeds)
        med_seed = statistics.median(r["seconds"] for r in seeds)
        print(f"ratio ours/seed by pages/s (same pages): best {best_seed / best_ours:.2f}×, "
              f"median {med_seed / med_ours:.2f}×")  # fmt: skip
        seed_chunks = seeds[0]["chunks"]
        by_chunks = (chunks / best_ours) / (seed_chunks / best_seed)
        size = statistics.fmean(our_chars) / seeds[0]["chars"]["mean"]
        print(f"ratio by chunks/s: best {by_chunks:.2f}× (ours has {chunks / seed_chunks:.2f}× "
              f"the chunks, of {size:.2f}× the characters)")  # fmt: skip
    print()
    last = ours[-1]
    w = last["wall"]
    print(f"where ours went (last run, {w:.1f} s):")
    print(f"  inside the embedder (calling thread):    {last['embed_s']:7.1f} s "
          f"({last['embed_s'] / w:.0%})")  # fmt: skip
    print(f"  extraction on the reader thread:         {last['extract_s']:7.1f} s "
          f"({last['extract_files']} files, PDFs in the child process)")  # fmt: skip
    if last["waited_s"] is not None:
        hidden = last["extract_s"] - last["waited_s"]
        print(f"  calling thread waiting for a read file:  {last['waited_s']:7.1f} s "
              f"(so about {max(hidden, 0):.1f} s of reading hidden behind embedding)")  # fmt: skip
        print(f"  most read ahead at once: {last['peak'][0]} files, {last['peak'][1]} chunks")
    if sequential is not None:
        seq = sequential
        print(f"  read in turn (no overlap) took {seq['wall']:.1f} s: overlap gained "
              f"{seq['wall'] - med_ours:.1f} s against the median of ours "
              f"({seq['wall'] / med_ours:.2f}×); in turn, extraction {seq['extract_s']:.1f} s, "
              f"embedder {seq['embed_s']:.1f} s")  # fmt: skip
    print()
    raw_rate = len(texts) / raw_s
    raw_pipeline = raw_run["report"].chunks_added / raw_run["wall"]
    which = " (rust-book + pdf)" if args.raw_corpus == "all" else ""
    batch = raw_model.batch_size
    print(f"raw SentenceTransformer.encode of {len(texts)} chunk texts{which}: {raw_s:.1f} s, "
          f"{raw_rate:.1f} chunks/s (batch_size={batch}, CPU {raw_cpu:.1f} s)")  # fmt: skip
    print(f"ratio pipeline / raw encode: {raw_pipeline / raw_rate:.2f} (wall clock; pipeline "
          f"{raw_pipeline:.1f} chunks/s, CPU {raw_run['cpu']:.1f} s)")  # fmt: skip
    print(f"load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"on {os.cpu_count()} CPUs (other processes slow every timing)")  # fmt: skip
    print(f"peak RSS (this process): {peak_rss_mb():.0f} MB")
    if args.tracemalloc:
        import tracemalloc

        _current, peak = tracemalloc.get_traced_memory()
        print(f"peak Python allocations (tracemalloc): {peak / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
