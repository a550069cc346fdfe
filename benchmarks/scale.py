"""Retrieval at scale: 10,000 to 1,000,000 chunks, approximate vector index against exact.

    .venv/bin/python benchmarks/scale.py [--sizes 10000,100000,1000000] [--queries 30]

One chunk table grows through the sizes, written the way the indexer writes (`Store.
write_files` in groups of 4,000 rows, `Store.optimize` whenever `needs_optimize`), then
finished the way an index run finishes (`optimize`, `KnowledgeBase.update_vector_index`).
Chunks are synthetic but realistic: texts are paragraphs of ../shared/corpus (the rust book)
cut and mixed, vectors are real MiniLM embeddings of a sample of those paragraphs, mixed and
perturbed the same way (so neighbourhoods are as crowded as real text's, unlike uniform noise).
Per size it prints:
- build time of each index: vector (HNSW), keyword (FTS, 3 columns, from scratch), scalar
  (B-tree), and the time spent folding rows in while writing;
- p50/p90 of dense, keyword and hybrid retrieval through the project's KnowledgeBase
  (query embedding with the real MiniLM included) once the questions have been asked once,
  the first question's time after opening, and the exact scan as the baseline;
- recall@10 of the index against the exact scan (`bypass_vector_index`);
- RSS of a fresh process that opens the index and answers the questions (as the app does
  after a restart), and this building process's peak; index size on disk, and peak disk
  use while writing (sampled).
The searches run in that fresh process (`--measure DIR`), so its memory and latency are the
app's, not those of a process that has just generated a million vectors and built the
index. The table is kept in `.bench/scale/` unless `--clean`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from lancedb.index import FTS, BTree

from _common import BENCH_DIR, SHARED, peak_rss_mb
from desktop_rag.core.embedding.backend import make_embedder
from desktop_rag.core.embedding.embedder import embedder_variant
from desktop_rag.core.index.schema import under_predicate
from desktop_rag.core.index.store import Store
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths, default_embedder_dir
from desktop_rag.core.records import Chunk, FileRecord
from desktop_rag.core.settings import Settings

WORK = BENCH_DIR / "scale"
WRITE_ROWS = 4000  # IndexerTuning.write_rows
PER_FILE = 10
SAMPLE = 4000  # paragraphs embedded for real
HELD_OUT = 60  # of them, never stored: the questions


def paragraphs() -> list[str]:
    out = []
    for path in sorted((SHARED / "corpus" / "rust-book").rglob("*.md")):
        for para in re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="ignore")):
            para = " ".join(para.split())
            if 80 <= len(para) <= 1500:
                out.append(para)
    return out


def real_sample(embedder) -> tuple[list[str], np.ndarray]:
    """SAMPLE corpus paragraphs and their MiniLM vectors (cached: minutes on 2 cores)."""
    cache = WORK / f"sample-{SAMPLE}.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        return list(data["texts"]), data["vectors"]
    paras = paragraphs()
    rng = np.random.default_rng(1)
    texts = [paras[i] for i in rng.permutation(len(paras))[:SAMPLE]]
    vectors = embedder.embed(texts)
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(cache, texts=np.array(texts), vectors=vectors)
    return texts, vectors


class Synth:
    """Chunk i: paragraph a with words of paragraph b, vector a + w·b + noise, normalized."""

    def __init__(self, texts: list[str], vectors: np.ndarray):
        self.texts = [t.split() for t in texts]
        self.vectors = vectors

    def batch(self, first: int, rows: int) -> list:
        rng = np.random.default_rng(first)
        n = len(self.texts)
        a, b = rng.integers(0, n, rows), rng.integers(0, n, rows)
        w = rng.uniform(0, 0.5, (rows, 1)).astype(np.float32)
        noise = rng.standard_normal((rows, self.vectors.shape[1])).astype(np.float32) * 0.03
        v = self.vectors[a] + w * self.vectors[b] + noise
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        items = []
        for f in range(rows // PER_FILE):
            file_no = (first // PER_FILE) + f
            path = f"/home/u/docs/area{file_no % 50:02}/file{file_no:07}.md"
            chunks = []
            for j in range(PER_FILE):
                i = f * PER_FILE + j
                words = self.texts[a[i]]
                extra = self.texts[b[i]][: int(len(self.texts[b[i]]) * float(w[i, 0]))]
                text = " ".join(words + extra)
                chunk = Chunk(path, j, text, 0, len(text), content_hash=f"{file_no}#{j}")
                chunks.append((chunk, v[i]))
            record = FileRecord(path, 1, 1, f"h{file_no}", "indexed", None, PER_FILE, "text")
            items.append((record, chunks))
        return items


class DiskSampler:
    """Largest size of a folder seen while running (a thread sampling every `every` s)."""

    def __init__(self, store: Store, every: float = 1.0):
        self.store, self.every, self.peak = store, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.store.size_bytes())
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.store.size_bytes())


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its highest (VmHWM), in MB. Not
    getrusage's peak: Linux carries that over from the parent a child was forked from."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def timings(fn, queries: list) -> tuple[float, float]:
    """p50 and p90 in ms of fn(query) over the queries (after one warm-up call)."""
    fn(queries[0])
    times = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.9))]


def grow(store: Store, synth: Synth, have: int, target: int) -> tuple[float, float, int]:
    """Write rows up to `target` as the indexer does; (write s, optimize s, optimizes)."""
    writing = folding = 0.0
    runs = 0
    for first in range(have, target, WRITE_ROWS):
        items = synth.batch(first, min(WRITE_ROWS, target - first))
        t0 = time.perf_counter()
        store.write_files(items)
        t1 = time.perf_counter()
        runs += store.optimize()
        writing += t1 - t0
        folding += time.perf_counter() - t1
    return writing, folding, runs


def fts_and_scalar_rebuild(store: Store) -> tuple[float, float]:
    """Seconds to build the keyword indexes and the B-trees from scratch on this table."""
    chunks = store._chunks
    english = FTS(base_tokenizer="simple", language="English", stem=True)
    cjk = FTS(base_tokenizer="whitespace", stem=False, remove_stop_words=False,
              lower_case=False, ascii_folding=False, max_token_length=8)  # fmt: skip
    t0 = time.perf_counter()
    chunks.create_index("text", config=english, replace=True)
    chunks.create_index("context", config=english, replace=True)
    chunks.create_index("cjk", config=cjk, replace=True)
    t1 = time.perf_counter()
    for column in ("path", "content_hash"):
        chunks.create_index(column, config=BTree(), replace=True)
    t2 = time.perf_counter()
    store.optimize(force=True)  # drop the replaced index files
    return t1 - t0, t2 - t1


def measure(kb: KnowledgeBase, questions: list[str], vectors: np.ndarray) -> dict:
    store = kb.store
    started = time.perf_counter()
    kb.search(questions[0], 10)  # the first question after opening reads the indexes in
    first_ms = (time.perf_counter() - started) * 1000
    for q in questions:  # steady state: what a session of questions sees
        kb.search(q, 10)
    out = {
        "first": first_ms,
        "dense": timings(lambda q: kb.search_dense(q, 10), questions),
        "keyword": timings(lambda q: kb.search_keyword(q, 10), questions),
        "hybrid": timings(lambda q: kb.search(q, 10), questions),
        "embed": timings(lambda q: kb.embed_texts([q]), questions),
    }
    vecs = list(vectors)
    out["exact"] = timings(lambda v: store.search_vector(v, 40, exact=True), vecs)
    out["ann40"] = timings(lambda v: store.search_vector(v, 40), vecs)
    folder = under_predicate("/home/u/docs/area07")
    out["folder"] = timings(lambda v: store.search_vector(v, 40, folder), vecs)
    recalls, folder_recalls = [], []
    for v in vectors:
        approx = {r["id"] for r in store.search_vector(v, 10)}
        exact = {r["id"] for r in store.search_vector(v, 10, exact=True)}
        recalls.append(len(approx & exact) / max(1, len(exact)))
        approx = {r["id"] for r in store.search_vector(v, 10, folder)}
        exact = {r["id"] for r in store.search_vector(v, 10, folder, exact=True)}
        folder_recalls.append(len(approx & exact) / max(1, len(exact)))
    out["recall"] = float(np.mean(recalls))
    out["folder_recall"] = float(np.mean(folder_recalls))
    return out


def open_and_measure(data: Path, queries: int) -> dict:
    """In this (fresh) process: open the index at `data` as the app does and measure."""
    paths = AppPaths(data)
    settings = Settings()
    embedder = make_embedder(default_embedder_dir(), settings.embedder_backend, paths.cache_dir)
    texts, _ = real_sample(embedder)
    questions = [" ".join(t.split()[:12]) for t in texts[:HELD_OUT]][:queries]
    kb = KnowledgeBase(paths, settings, embedder=embedder)
    out = measure(kb, questions, embedder.embed(questions))
    out["rss_mb"], out["peak_rss_mb"] = rss_mb(), rss_mb("VmHWM")
    out["variant"] = embedder_variant(embedder)
    kb.close()
    return out


def measure_in_child(data: Path, queries: int) -> dict:
    """`open_and_measure` in a new Python process; its result as a dict."""
    command = [sys.executable, __file__, "--measure", str(data), "--queries", str(queries)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--clean", action="store_true", help="delete the table afterwards")
    parser.add_argument(
        "--measure", type=Path, metavar="DATA_DIR",
        help="only measure the searches on the index in DATA_DIR (made by a run of this "
        "script), in this process; prints JSON (what each size's fresh process does)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(open_and_measure(args.measure, args.queries)))
        return 0
    sizes = sorted(int(s) for s in args.sizes.split(","))
    data = WORK / "data"
    shutil.rmtree(data, ignore_errors=True)
    paths = AppPaths(data)
    # The app's embedder: the default runtime (Settings.embedder_backend) embeds questions.
    settings = Settings()
    embedder = make_embedder(default_embedder_dir(), settings.embedder_backend, paths.cache_dir)
    texts, vectors = real_sample(embedder)
    synth = Synth(texts[HELD_OUT:], vectors[HELD_OUT:])
    kb = KnowledgeBase(paths, settings, embedder=embedder)
    kb.store.ensure_tables(embedder.name, embedder.dim)
    have = 0
    print(f"scale: {len(texts) - HELD_OUT} real MiniLM vectors mixed into synthetic chunks; "
          f"{min(args.queries, HELD_OUT)} questions; {os.cpu_count()} CPUs; "
          f"questions embedded by {embedder_variant(embedder)}", flush=True)  # fmt: skip
    for size in sizes:
        store = kb.store
        t0 = time.perf_counter()
        with DiskSampler(store) as disk:
            writing, folding, runs = grow(store, synth, have, size)
            t1 = time.perf_counter()
            store.optimize()  # an index run's end (Indexer._finish)
            finishing = time.perf_counter() - t1
            t1 = time.perf_counter()
            action = kb.update_vector_index()
            vector_s = time.perf_counter() - t1
        fill_s = time.perf_counter() - t0
        have = size
        final = store.size_bytes()
        kb.close()  # the searching process is a new one, as after a restart
        m = measure_in_child(data, args.queries)
        kb = KnowledgeBase(paths, settings, embedder=embedder)
        store = kb.store
        fts_s, btree_s = fts_and_scalar_rebuild(store)
        mb = 1 << 20
        print(
            f"\n{size:,} chunks  (written in {fill_s:.0f} s: add {writing:.0f} s, "
            f"{runs} optimizes {folding:.0f} s, final optimize {finishing:.1f} s)"
        )
        print(
            f"  build   vector index {vector_s:7.1f} s ({action.value})   keyword FTS x3 "
            f"{fts_s:6.1f} s   B-tree x2 {btree_s:5.1f} s   (from scratch)"
        )
        for name in ("dense", "keyword", "hybrid"):
            p50, p90 = m[name]
            aim = "   aim p50 <= 50 ms" if name == "hybrid" else ""
            what = "   (no embedding)" if name == "keyword" else "   (embedding included)"
            print(f"  {name:<8} p50 {p50:7.1f} ms   p90 {p90:7.1f} ms{what}{aim}")
        print(f"  embed    p50 {m['embed'][0]:7.1f} ms   (MiniLM, one question)")
        print(f"  first question after opening {m['first']:7.1f} ms (hybrid; then warm)")
        ann, exact = m["ann40"][0], m["exact"][0]
        print(
            f"  vector search, 40 rows: index {ann:6.1f} ms   exact scan {exact:6.1f} ms"
            f"   {exact / ann:5.1f}x faster"
        )
        print(
            f"  one folder (prefilter)  {m['folder'][0]:6.1f} ms   recall@10 "
            f"{m['folder_recall']:.3f}"
        )
        print(f"  recall@10 vs exact {m['recall']:.3f}   aim >= 0.98")
        print(
            f"  RSS searching {m['rss_mb']:6.0f} MB   peak {m['peak_rss_mb']:6.0f} MB   "
            f"aim <= 2048 MB   (fresh process; this building one peaked at "
            f"{peak_rss_mb():.0f} MB)"
        )
        print(
            f"  disk    index {final / mb:7.0f} MB   peak while writing {disk.peak / mb:7.0f} MB"
            f"   ({disk.peak / final:.2f}x final, aim <= 2x)",
            flush=True,
        )
    kb.close()
    if args.clean:
        shutil.rmtree(WORK / "data", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
