"""Why a phrase was suggested: the parts of the analysis it answers, as structured reasons (labels the UI
words in its own language; `Reasons.english()` gives one line for text output)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from assist.retrieval.query import Query
from assist.retrieval.tokenize import tokens
from assist.schemas.suggestion import Learned, Reasons


def reasons(
    q: Query,
    p: dict[str, Any],
    text: str,
    parts: dict[str, float],
    readings: Collection[str] = (),
    learned: Any = None,
) -> Reasons:
    """The reasons a phrase suits a query.

    Args:
        q: the query.
        p: the phrase (as the store returns it).
        text: the phrase's text in the query's language.
        parts: the phrase's channel and feature scores.
        readings: emotions of other likely readings of the message (coverage).
        learned: what the agent's team did with the phrase for similar messages (assist.bank.feedback.LearnedStat).
    """
    emotions = [e for e in p["emotions"] if e == q.emotion]
    other = None
    if not emotions:  # answers another likely reading of the message (coverage)
        other = next((e for e in p["emotions"] if e in readings and e != "neutral"), None)
    shared: list[str] = []
    if parts.get("lexical", 0.0) > 0:
        theirs = set(tokens(text))
        shared = [t for t in dict.fromkeys(tokens(q.text)) if t in theirs][:3]
    done = Learned(used=learned.used, dismissed=learned.dismissed) if learned is not None else None
    return Reasons(
        emotions=emotions,
        other_reading=other,
        situations=[s for s in p["situations"] if s in q.situations],
        profile_fits=[t for t in p["customer_types"] if t in q.customer_types],
        technique=p["technique"] or None,
        shared_terms=shared,
        learned=done if done is not None and (done.used or done.dismissed) else None,
    )
