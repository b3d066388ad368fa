"""Diversity of a ranked list: coverage of the message's likely readings, no near-duplicates, and at most two
phrases of one technique while others are left."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from assist.retrieval.rows import EMO, SIT


@lru_cache(maxsize=16_384)
def _bigrams(text: str) -> frozenset[str]:
    """Character bigrams of a text (phrase texts recur in every search: remembered)."""
    t = "".join(text.lower().split())
    return frozenset({t[i : i + 2] for i in range(len(t) - 1)} or {t})


def near_duplicate(a: str, b: str, threshold: float = 0.6) -> bool:
    """Jaccard similarity of character bigrams at or above `threshold`."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / max(1, len(x | y)) >= threshold


def aspects(situations: dict[str, float], emotions: dict[str, float]) -> dict[tuple[int, int], float]:
    """The readings of the message a suggestion can answer: (situation bit, emotion bit) -> probability."""
    sit = {SIT[k]: v for k, v in situations.items() if k in SIT and v > 0}
    emo = {EMO[k]: v for k, v in emotions.items() if k in EMO and v > 0}
    ms, me = sum(sit.values()), sum(emo.values())
    if not ms or not me:
        return {}
    return {(a, b): (x / ms) * (y / me) for a, x in sit.items() for b, y in emo.items()}


def cover(
    order: list[int],
    score: np.ndarray,
    sit: np.ndarray,
    emo: np.ndarray,
    aspects: dict[tuple[int, int], float],
    k: int,
    weight: float,
) -> list[int]:
    """Greedy coverage of the message's readings (xQuAD-style): each next pick maximises its score plus
    `weight` times the probability of the (situation, emotion) readings it answers that no earlier
    pick answers. An uncertain analysis thus gets its likely readings each answered near the top.

    Args:
        order: candidate rows, best first.
        score, sit, emo: per candidate (aligned with `order`): total score, situation and emotion bitmasks.
        aspects: (situation bit, emotion bit) -> probability, from `aspects`.
        k: how many picks the caller needs (2k are made greedily, the rest keep their order).
        weight: settings.w_coverage.
    Returns:
        `order` reordered.
    """
    keys = list(aspects)
    prob = np.array([aspects[a] for a in keys], dtype=np.float32)
    covers = np.stack([((sit >> s) & 1) & ((emo >> e) & 1) for s, e in keys], axis=1).astype(np.float32)
    left = np.ones(len(order), dtype=bool)
    picked: list[int] = []
    for _ in range(min(len(order), k * 2)):
        gain = np.where(left, score + weight * (covers @ prob), -np.inf)
        best = int(np.argmax(gain))
        picked.append(best)
        left[best] = False
        prob = prob * (1.0 - covers[best])  # readings this pick answers earn nothing further
    return [order[i] for i in picked] + [order[i] for i in np.flatnonzero(left)]


def select(
    order: Sequence[int],
    text: Callable[[int], str],
    technique: Callable[[int], str | None],
    k: int,
    diverse: bool = True,
) -> list[int]:
    """Up to k rows from `order`, skipping near-duplicates of those already taken and holding back a third
    phrase of one technique until the others are used up. Without `diverse`, the first k as they are."""
    taken: list[int] = []
    texts: list[str] = []
    per_technique: dict[str | None, int] = {}
    held: list[int] = []
    for row in order:
        if len(taken) >= k:
            break
        t = text(row)
        if diverse:
            if any(near_duplicate(t, h) for h in texts):
                continue
            tech = technique(row)
            if per_technique.get(tech, 0) >= 2:  # keep the list varied; used if room is left
                held.append(int(row))
                continue
            per_technique[tech] = per_technique.get(tech, 0) + 1
        taken.append(row)
        texts.append(t)
    for row in held:
        if len(taken) >= k:
            break
        t = text(row)
        if not any(near_duplicate(t, h) for h in texts):
            taken.append(row)
            texts.append(t)
    return taken
