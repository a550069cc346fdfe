"""Combining ranked lists and removing duplicates. Pure functions of data.

Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009) adds 1 / (k + rank)
over the lists a result appears in. It needs no score calibration between BM25 and
cosine similarity, which live on unrelated scales.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from desktop_rag.core.records import Hit

RRF_K = 60
Key = TypeVar("Key", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Key]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[Key, float]]:
    """Fuse best-first rankings into one list of (key, score), best first.

    A key repeated within one ranking counts at its best rank only. Ties keep the order
    in which keys were first seen, so the result is deterministic.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[Key] = set()
        for rank, key in enumerate(ranking, start=1):
            if key in seen:
                continue
            seen.add(key)
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    order = {key: i for i, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


@dataclass(frozen=True)
class Candidate:
    """A hit with what de-duplication needs to know about it."""

    hit: Hit
    content_hash: str = ""
    file_hash: str = ""


def dedupe(candidates: Iterable[Candidate], limit: int | None = None) -> list[Hit]:
    """Keep the best of near-duplicates; `candidates` come best first.

    Dropped: a chunk overlapping a better chunk of the same file (chunk overlap), a chunk
    with the same text as a better one, and any chunk of a file whose identical copy
    (same file hash) at another path already contributed a result.
    """
    kept: list[Hit] = []
    spans: dict[str, list[tuple[int, int]]] = {}
    texts: set[str] = set()
    owner_of_file: dict[str, str] = {}
    for cand in candidates:
        hit = cand.hit
        if cand.file_hash and owner_of_file.setdefault(cand.file_hash, hit.path) != hit.path:
            continue
        if cand.content_hash and cand.content_hash in texts:
            continue
        taken = spans.setdefault(hit.path, [])
        if any(hit.start < end and start < hit.end for start, end in taken):
            continue
        taken.append((hit.start, hit.end))
        if cand.content_hash:
            texts.add(cand.content_hash)
        kept.append(hit)
        if limit is not None and len(kept) >= limit:
            break
    return kept
