"""Why a phrase was suggested: the parts of the analysis it answers, as one line of prose."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from assist.retrieval.query import Query
from assist.retrieval.tokenize import tokens


def why(q: Query, p: dict[str, Any], text: str, parts: dict[str, float], readings: Collection[str] = ()) -> str:
    """The reasons a phrase suits a query, "; "-joined.

    Args:
        q: the query.
        p: the phrase (as the store returns it).
        text: the phrase's text in the query's language.
        parts: the phrase's channel and feature scores.
        readings: emotions of other likely readings of the message (coverage).
    """
    reasons = []
    emotions = [e for e in p["emotions"] if e == q.emotion]
    if not emotions:  # answers another likely reading of the message (coverage)
        emotions = [f"{e} (other reading)" for e in p["emotions"] if e in readings and e != "neutral"][:1]
    situations = [s for s in p["situations"] if s in q.situations]
    if emotions or situations:
        reasons.append(" + ".join(emotions + situations))
    types = [t for t in p["customer_types"] if t in q.customer_types]
    if types:
        reasons.append("fits " + ", ".join(types))
    if p["technique"]:
        reasons.append(f"technique: {p['technique']}")
    if parts.get("lexical", 0.0) > 0:
        theirs = set(tokens(text))
        shared = [t for t in dict.fromkeys(tokens(q.text)) if t in theirs][:3]
        if shared:
            reasons.append("shares " + ", ".join(shared))
    return "; ".join(reasons)
