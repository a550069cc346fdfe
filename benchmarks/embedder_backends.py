"""Embedding runtimes side by side: torch against ONNX Runtime fp32, fused fp32 and int8.

Chunks `../shared/corpus` (Markdown rust-book + 40 PDFs) with the app's own extraction
and chunking (identical chunk texts once, as the indexer embeds them), then embeds the
same texts with each runtime in this process, batch 32, the same number of threads, taking
turns slice by slice (a shared machine's load falls on all alike), and prints chunks/s,
the ratio to torch and the cosine of each vector to torch's.

    python benchmarks/embedder_backends.py [--shared DIR] [--limit N] [--threads N] [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from _common import BENCH_DIR, SHARED, peak_rss_mb
from desktop_rag.core.embedding.embedder import SentenceTransformerEmbedder
from desktop_rag.core.embedding.onnx_embedder import OnnxEmbedder
from desktop_rag.core.embedding.onnx_export import FP32, FUSED, INT8
from desktop_rag.core.ingest.chunking import chunk_document, chunk_limits, embedding_text
from desktop_rag.core.ingest.extract import Extractor, is_supported
from desktop_rag.core.paths import default_embedder_dir
from desktop_rag.core.settings import Settings

BATCH = 32


def corpus_texts(folders: list[Path], embedder: SentenceTransformerEmbedder) -> list[str]:
    """The distinct texts the indexer would embed for these folders, in walk order."""
    settings = Settings()
    limits = chunk_limits(settings.chunk_tokens, settings.chunk_overlap, embedder.max_tokens)
    texts: dict[str, None] = {}
    with Extractor() as extractor:
        for path in sorted(p for f in folders for p in f.rglob("*") if p.is_file()):
            if not is_supported(path):
                continue
            try:
                doc = extractor.extract(path)
            except Exception as exc:  # the indexer skips such a file too
                print(f"  skipped {path.name}: {exc}", file=sys.stderr)
                continue
            for chunk in chunk_document(doc, embedder.token_offsets, *limits):
                texts.setdefault(embedding_text(chunk.text, chunk.heading_path), None)
    return list(texts)


def interleaved(runtimes: dict[str, object], texts: list[str], rounds: int):
    """Each runtime embeds the same slice in turn, slice after slice, so a load that comes
    and goes on a shared machine weighs on all of them alike. Returns per runtime its
    seconds and its vectors."""
    seconds = dict.fromkeys(runtimes, 0.0)
    parts: dict[str, list[np.ndarray]] = {label: [] for label in runtimes}
    step = -(-len(texts) // rounds)
    for start in range(0, len(texts), step):
        part = texts[start : start + step]
        for label, embedder in runtimes.items():
            started = time.perf_counter()
            parts[label].append(embedder.embed(part))
            seconds[label] += time.perf_counter() - started
    return {label: (seconds[label], np.concatenate(parts[label])) for label in runtimes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="the ../shared folder")
    parser.add_argument("--limit", type=int, default=0, help="embed N chunks, spread evenly")
    parser.add_argument("--threads", type=int, default=0, help="default: torch's (cores)")
    parser.add_argument("--rounds", type=int, default=8, help="slices the runtimes alternate on")
    parser.add_argument("--cache", type=Path, default=BENCH_DIR / "cache", help="ONNX exports")
    args = parser.parse_args(argv)
    corpus = args.shared / "corpus"
    folders = [corpus / "rust-book", corpus / "pdf"]
    if not all(f.is_dir() for f in folders):
        print(f"corpus not found in {corpus}", file=sys.stderr)
        return 2

    import torch

    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    model_dir = default_embedder_dir()
    reference = SentenceTransformerEmbedder(model_dir, device="cpu", batch_size=BATCH)
    started = time.perf_counter()
    texts = corpus_texts(folders, reference)
    if args.limit and args.limit < len(texts):  # evenly across the corpus: Markdown and PDFs
        texts = [texts[i * len(texts) // args.limit] for i in range(args.limit)]
    print(f"corpus: {corpus}: {len(texts)} distinct chunk texts "
          f"(chunked in {time.perf_counter() - started:.0f} s); batch {BATCH}, "
          f"{threads} threads for torch and onnxruntime")  # fmt: skip

    runtimes = {"torch fp32": reference}
    runs = [(FP32, threads), (FUSED, threads), (INT8, threads)]
    runs += [(FUSED, 1)] if threads > 1 else []
    for variant, n in runs:
        onnx = OnnxEmbedder(model_dir, args.cache, variant=variant, threads=n, batch_size=BATCH)
        started = time.perf_counter()
        onnx.embed(["load"])
        how = "exported" if onnx.exported else "cached export"
        print(f"  {variant}: {how}, loaded in {time.perf_counter() - started:.1f} s")
        label = variant + ("" if n == threads else f", {n} thread")
        runtimes[label] = onnx
    for embedder in runtimes.values():
        embedder.embed(texts[:BATCH])  # first-call allocations: not timed
    results = interleaved(runtimes, texts, args.rounds)
    base_s, base = results["torch fp32"]

    print(f"{'runtime':<24} {'chunks/s':>9} {'vs torch':>9} {'cos min':>8} {'cos p1':>8} "
          f"{'cos mean':>9} {'max |norm-1|':>13}")  # fmt: skip
    for label, (seconds, vectors) in results.items():
        cos = np.sum(vectors * base, axis=1)
        norm_error = np.abs(np.linalg.norm(vectors, axis=1) - 1).max()
        print(f"{label:<24} {len(texts) / seconds:>9.1f} {base_s / seconds:>8.2f}x "
              f"{cos.min():>8.4f} {np.percentile(cos, 1):>8.4f} {cos.mean():>9.5f} "
              f"{norm_error:>13.1e}")  # fmt: skip
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
