"""Reciprocal rank fusion and de-duplication: pure functions."""

from __future__ import annotations

import pytest

from desktop_rag.core.records import Hit
from desktop_rag.core.retrieval.fusion import Candidate, dedupe, reciprocal_rank_fusion


def test_rrf_rewards_agreement_and_uses_the_formula():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60)
    keys = [key for key, _ in fused]
    assert keys[0] == "b"  # second and first: beats "a", first in one list only
    assert dict(fused)["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert dict(fused)["d"] == pytest.approx(1 / 62)
    assert keys == ["b", "a", "d", "c"] or keys == ["b", "a", "c", "d"]
    assert dict(fused)["c"] == pytest.approx(1 / 63)
    assert keys.index("d") < keys.index("c")


def test_rrf_weights_and_repeats_and_ties():
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], k=1, weights=[1.0, 3.0]))
    assert fused["b"] == pytest.approx(1.5) and fused["a"] == pytest.approx(0.5)
    # A repeated key counts once per list, at its best rank.
    assert dict(reciprocal_rank_fusion([["x", "x"]], k=0))["x"] == pytest.approx(1.0)
    # Ties keep first-seen order.
    assert [k for k, _ in reciprocal_rank_fusion([["p"], ["q"]])] == ["p", "q"]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


def cand(cid, path, start, end, chash="", fhash="") -> Candidate:
    hit = Hit(chunk_id=cid, path=path, text=cid, start=start, end=end, score=1.0)
    return Candidate(hit, chash, fhash)


def test_dedupe_overlapping_chunks_of_one_file_keeps_the_best():
    hits = dedupe([cand("1", "/a", 100, 200), cand("2", "/a", 150, 250), cand("3", "/a", 200, 300)])
    assert [h.chunk_id for h in hits] == ["1", "3"]  # 3 only touches 1 at 200: no overlap


def test_dedupe_identical_text_and_copies_of_a_file():
    hits = dedupe(
        [
            cand("1", "/a/report.pdf", 0, 10, "t1", "F"),
            cand("2", "/b/report copy.pdf", 50, 60, "t2", "F"),  # same file elsewhere
            cand("3", "/a/report.pdf", 50, 60, "t2", "F"),  # same file, other chunk: kept
            cand("4", "/c/other.txt", 0, 10, "t1", "G"),  # same text in another file
            cand("5", "/c/other.txt", 20, 30, "t5", "G"),
        ]
    )
    assert [h.chunk_id for h in hits] == ["1", "3", "5"]


def test_dedupe_limit():
    hits = dedupe((cand(str(i), f"/f{i}", 0, 1) for i in range(10)), limit=3)
    assert [h.chunk_id for h in hits] == ["0", "1", "2"]
