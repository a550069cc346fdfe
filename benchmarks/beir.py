"""Retrieval quality on BEIR SciFact (test split): nDCG@10 and Recall@100.

Indexes the 5,183 abstracts (title + " " + text, one document each) through the app's
own chunking, embedding and store, keeps that index in
`.bench/scifact-<tokens>-<overlap>-<backend>/` between runs, and scores dense, keyword and
hybrid search on the 300 test queries. A document is ranked by its best chunk.

    python benchmarks/beir.py [--shared DIR] [--chunk-tokens N] [--chunk-overlap N]
                              [--embedder-backend auto|onnx|torch]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from _common import BENCH_DIR, SHARED, StderrProgress, peak_rss_mb
from desktop_rag.core.embedding.embedder import embedder_variant
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths
from desktop_rag.core.records import Document, Hit, Section
from desktop_rag.core.settings import EMBEDDER_BACKENDS, Settings

DOC_PREFIX = "/scifact/"


def read_corpus(folder: Path) -> Iterator[Document]:
    with (folder / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            text = f"{row['title']} {row['text']}"
            yield Document(
                path=f"{DOC_PREFIX}{row['_id']}",
                kind="text",
                text=text,
                sections=(Section(text=text, start=0),),
            )


def read_qrels(folder: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels" / "test.tsv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)  # header
        for row in reader:
            if len(row) >= 3:
                qrels.setdefault(row[0].strip(), {})[row[1].strip()] = int(row[2])
    return qrels


def read_queries(folder: Path, wanted: set[str]) -> dict[str, str]:
    queries = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["_id"] in wanted:
                queries[row["_id"]] = row["text"]
    return queries


def ndcg_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    """nDCG@k with linear gain, as trec_eval's ndcg_cut (BEIR uses pytrec_eval)."""
    dcg = sum(rels.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def doc_ranking(hits: list[Hit]) -> list[str]:
    """Documents in the order of their best chunk."""
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(hit.path.removeprefix(DOC_PREFIX), None)
    return list(seen)


def evaluate(
    search: Callable[[str, int], list[Hit]],
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    chunks_per_query: int,
) -> tuple[float, float, float]:
    ndcg = recall = 0.0
    started = time.perf_counter()
    for qid, text in queries.items():
        ranked = doc_ranking(search(text, chunks_per_query))
        ndcg += ndcg_at(ranked, qrels[qid], 10)
        recall += recall_at(ranked, qrels[qid], 100)
    n = len(queries)
    return ndcg / n, recall / n, (time.perf_counter() - started) / n * 1000


def main(argv: list[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="the ../shared folder")
    parser.add_argument("--chunk-tokens", type=int, default=defaults.chunk_tokens)
    parser.add_argument("--chunk-overlap", type=int, default=defaults.chunk_overlap)
    parser.add_argument(
        "--embedder-backend", choices=EMBEDDER_BACKENDS, default=defaults.embedder_backend
    )
    parser.add_argument("--index-only", action="store_true", help="build the index and stop")
    args = parser.parse_args(argv)

    folder = args.shared / "eval" / "scifact"
    if not (folder / "corpus.jsonl").is_file():
        print(f"SciFact not found in {folder}", file=sys.stderr)
        return 2
    settings = defaults.with_changes(
        chunk_tokens=args.chunk_tokens,
        chunk_overlap=args.chunk_overlap,
        embedder_backend=args.embedder_backend,
    )
    # One index per backend: each one's vectors are scored, not the first one's.
    data_dir = BENCH_DIR / (
        f"scifact-{args.chunk_tokens}-{args.chunk_overlap}-{args.embedder_backend}"
    )
    kb = KnowledgeBase(AppPaths(data_dir), settings)
    docs = list(read_corpus(folder))
    started = time.perf_counter()
    report = kb.index_documents(docs, total=len(docs), progress=StderrProgress("scifact"))
    status = kb.status()
    print(f"SciFact corpus: {len(docs)} documents -> {status.chunks} chunks "
          f"(chunk_tokens={args.chunk_tokens}, overlap={args.chunk_overlap}); "
          f"this run embedded {report.chunks_embedded} chunks, "
          f"{report.unchanged} documents already indexed, "
          f"{time.perf_counter() - started:.1f} s; index {status.index_bytes / 1e6:.1f} MB "
          f"in {data_dir}")  # fmt: skip
    if args.index_only:
        return 0

    qrels = read_qrels(folder)
    queries = read_queries(folder, set(qrels))
    depth = 300  # chunks asked for, so that at least 100 distinct documents remain
    print(f"{len(queries)} test queries; embedder {status.embedder} "
          f"({embedder_variant(kb.embedder)})")  # fmt: skip
    print(f"{'method':<8} {'nDCG@10':>8} {'Recall@100':>11} {'ms/query':>9}")
    for name, search in (
        ("dense", kb.search_dense),
        ("keyword", kb.search_keyword),
        ("hybrid", kb.search),
    ):
        ndcg, recall, ms = evaluate(search, queries, qrels, depth)
        print(f"{name:<8} {ndcg:>8.4f} {recall:>11.4f} {ms:>9.1f}")
    print("published: MiniLM dense 0.645 (R@100 0.925), BM25 0.665 (Anserini), 0.687 (bm25s)")
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    kb.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
