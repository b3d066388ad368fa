"""What a search asks (Query) and what it answers (Hit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assist.schemas.suggestion import Reasons


@dataclass(slots=True)
class Query:
    """What to search for: the customer's text and what the analysis found in it."""

    text: str
    lang: str | None = None  # detected when None
    situations: dict[str, float] = field(default_factory=dict)  # situation -> confidence
    emotion: str | None = None
    emotion_scores: dict[str, float] = field(default_factory=dict)
    customer_types: dict[str, float] = field(default_factory=dict)  # "dimension:label" -> confidence
    team: str | None = None
    k: int = 5
    vector: np.ndarray | None = None  # precomputed query embedding (micro-batching)
    # team -> phrase id -> what the team's agents did for similar messages (assist.bank.feedback.LearnedStat)
    learned: dict[str | None, dict[int, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class Hit:
    phrase: dict[str, Any]
    text: str
    score: float
    reasons: Reasons
    parts: dict[str, float]
