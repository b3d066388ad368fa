"""BM25 (assist.retrieval.sparse) on hand-made documents, against the formula worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assist.retrieval.sparse import BM25


def _expected(tf: float, df: int, n: int, dl: float, avgdl: float, k1: float = 1.2, b: float = 0.75) -> float:
    idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))


@pytest.fixture
def bm25() -> BM25:
    index = BM25()
    index.set(0, ["parcel", "late", "late"])
    index.set(1, ["refund", "parcel"])
    index.set(3, ["refund"])  # rows need not be contiguous
    return index


def test_bm25_scores_match_the_formula(bm25: BM25) -> None:
    scores = bm25.scores(["late", "parcel"], 4)
    avgdl = 6 / 3  # 3 + 2 + 1 terms over 3 documents
    assert scores.dtype == np.float32 and scores.shape == (4,)
    assert scores[0] == pytest.approx(_expected(2, 1, 3, 3, avgdl) + _expected(1, 2, 3, 3, avgdl), rel=1e-5)
    assert scores[1] == pytest.approx(_expected(1, 2, 3, 2, avgdl), rel=1e-5)
    assert scores[2] == 0.0 and scores[3] == 0.0


def test_bm25_repeated_query_terms_count_once(bm25: BM25) -> None:
    np.testing.assert_array_equal(bm25.scores(["refund", "refund"], 4), bm25.scores(["refund"], 4))


def test_bm25_reindex_and_remove_update_statistics(bm25: BM25) -> None:
    bm25.set(0, ["refund"])  # re-index: "late" and "parcel" leave row 0
    assert not bm25.scores(["late"], 4).any()
    assert bm25.scores(["parcel"], 4)[0] == 0.0 and bm25.scores(["parcel"], 4)[1] > 0
    bm25.remove(1)
    bm25.remove(1)  # removing twice is harmless
    assert len(bm25) == 2
    scores = bm25.scores(["refund"], 4)
    assert scores[0] == pytest.approx(scores[3]) and scores[0] == pytest.approx(_expected(1, 2, 2, 1, 1.0), rel=1e-5)


def test_bm25_empty_and_unknown_terms() -> None:
    assert not BM25().scores(["x"], 3).any()
    index = BM25()
    index.set(70, ["far"])  # grows past its first allocation
    assert index.scores(["nothing"], 71).sum() == 0 and index.scores(["far"], 71)[70] > 0
