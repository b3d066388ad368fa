"""Situations in context: what is remembered of earlier messages never leaks a caller's changes into the next."""

from __future__ import annotations

from assist.retrieval.situation import detect_situations
from assist.suggest import situations_in_context


def test_situations_in_context_are_fresh_on_every_call() -> None:
    earlier = ["I want a refund for the broken kettle"]
    first = situations_in_context("how long will it take?", "en", earlier)
    assert first and any(s.get("from_earlier") for s in first)
    for s in first:
        s["score"] = -1.0
        s["evidence"].append({"text": "changed by the caller"})
    again = situations_in_context("how long will it take?", "en", earlier)
    assert all(s["score"] > 0 for s in again)
    assert all(e.get("text") != "changed by the caller" for s in again for e in s["evidence"])
    direct = {h.situation: h.as_dict() for h in detect_situations(earlier[0], "en")}
    for s in again:
        if s.get("from_earlier"):
            assert s["evidence"] == direct[s["situation"]]["evidence"]
