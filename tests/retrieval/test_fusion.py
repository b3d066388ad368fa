"""Fusion of the dense and lexical channels (assist.retrieval.hybrid) on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from assist.retrieval.hybrid import convex, normalize, rrf


def test_normalize_scales_by_the_maximum() -> None:
    np.testing.assert_allclose(normalize(np.array([0.0, 2.0, 4.0])), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("scores", [np.zeros(3), np.zeros(0)])
def test_normalize_keeps_all_zero_and_empty(scores: np.ndarray) -> None:
    out = normalize(scores)
    assert out.shape == scores.shape and not out.any()


def test_convex_weights_and_clamps_the_dense_weight() -> None:
    dense, lexical = np.array([1.0, 0.0, 0.5]), np.array([0.0, 1.0, 0.5])
    np.testing.assert_allclose(convex(dense, lexical, 0.25), [0.25, 0.75, 0.5])
    np.testing.assert_allclose(convex(dense, lexical, 1.7), dense)  # above 1: dense alone
    np.testing.assert_allclose(convex(dense, lexical, -1.0), lexical)  # below 0: lexical alone


def test_rrf_adds_reciprocal_ranks_of_each_channel() -> None:
    a = np.array([0.9, 0.5, 0.0, 0.1])  # ranks rows 0, 1, 3; row 2 scored 0 is not ranked
    b = np.array([0.0, 0.8, 0.0, 0.2])  # ranks rows 1, 3
    out = rrf(a, b, k=60)
    raw = np.array([1 / 61, 1 / 62 + 1 / 61, 0.0, 1 / 63 + 1 / 62])
    np.testing.assert_allclose(out, raw / raw.max(), rtol=1e-6)
    assert out.argmax() == 1 and out[2] == 0.0


def test_rrf_depth_cuts_each_channel() -> None:
    out = rrf(np.array([3.0, 2.0, 1.0]), depth=2)
    assert out[0] == 1.0 and 0 < out[1] < 1 and out[2] == 0.0


def test_rrf_of_nothing() -> None:
    assert rrf().shape == (0,)
    assert not rrf(np.zeros(4)).any()
