"""Valence backends a language may name in its analysis/matching.yml (`valence.backend`): lexicon packages."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from assist.errors import AssistError


class UnknownValenceBackend(AssistError):
    status, code = 500, "unknown_valence_backend"


def _vader() -> Callable[[str], float]:
    # VADER (MIT, github.com/cjhutto/vaderSentiment): compound valence in [-1, 1] for English text.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return lambda text: float(analyzer.polarity_scores(text)["compound"])


_BACKENDS: dict[str, Callable[[], Callable[[str], float]]] = {"vader": _vader}


@lru_cache(maxsize=8)
def backend(name: str) -> Callable[[str], float]:
    """The valence function of a backend, loaded once."""
    try:
        factory = _BACKENDS[name]
    except KeyError:
        raise UnknownValenceBackend(f"unknown valence backend {name!r}; known: {', '.join(_BACKENDS)}") from None
    return factory()
