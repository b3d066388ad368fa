"""Pure fusion functions for the dense and lexical channels."""

from __future__ import annotations

import numpy as np


def normalize(scores: np.ndarray) -> np.ndarray:
    """Scale non-negative scores into [0, 1] by their maximum (all zeros stay zeros)."""
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def convex(dense: np.ndarray, sparse: np.ndarray, dense_weight: float) -> np.ndarray:
    """Weighted sum of two score arrays already in [0, 1].

    Args:
        dense: cosine similarities clipped to [0, 1], one per row.
        sparse: normalized lexical scores, one per row.
        dense_weight: weight of the dense channel; the lexical channel gets 1 - dense_weight.
    Returns:
        Fused scores in [0, 1].
    """
    w = min(max(dense_weight, 0.0), 1.0)
    return w * dense + (1.0 - w) * sparse


def rrf(*channels: np.ndarray, k: int = 60, depth: int = 100) -> np.ndarray:
    """Reciprocal rank fusion: each channel's top `depth` rows add 1 / (k + rank).

    Args:
        channels: score arrays of equal length; rows with score 0 are not ranked.
        k: the RRF constant (60 in Cormack et al., 2009).
        depth: how many top rows of each channel take part.
    Returns:
        Fused scores scaled into [0, 1].
    """
    if not channels:
        return np.zeros(0, dtype=np.float32)
    out = np.zeros_like(channels[0], dtype=np.float32)
    for scores in channels:
        ranked = np.argsort(-scores, kind="stable")[:depth]
        ranked = ranked[scores[ranked] > 0]
        out[ranked] += 1.0 / (k + 1 + np.arange(len(ranked)))
    return normalize(out)
