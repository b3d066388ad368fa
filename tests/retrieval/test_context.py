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


def test_the_analysis_reading_and_the_cue_patterns_are_mixed_by_weight() -> None:
    text = "I want a refund for the broken kettle"
    cues = {h.situation: round(h.score, 3) for h in detect_situations(text, "en")}
    assert "refund_return" in cues
    read = [{"situation": "defect", "score": 0.8, "evidence": [], "source": "model+cues"}]
    mixed = {s["situation"]: s["score"] for s in situations_in_context(text, "en", [], read, 0.5)}
    assert mixed["defect"] == round(0.5 * 0.8 + 0.5 * cues.get("defect", 0.0), 3)
    assert mixed["refund_return"] == round(0.5 * cues["refund_return"], 3)  # the model did not read it
    only_read = situations_in_context(text, "en", [], read, 1.0)
    assert [s["situation"] for s in only_read] == ["defect"]
    assert situations_in_context(text, "en", [], None, 0.5) == situations_in_context(text, "en", [])


def test_suggestions_rank_by_the_learned_reading_only_when_the_model_read_the_message() -> None:
    from types import SimpleNamespace

    from assist.suggest import Suggester

    def analysis(source: str) -> SimpleNamespace:
        return SimpleNamespace(situations=[{"situation": "delay", "score": 0.9, "evidence": [], "source": source}])

    on = Suggester(None, SimpleNamespace(settings=SimpleNamespace(learned_situations=0.5)))  # type: ignore[arg-type]
    off = Suggester(None, SimpleNamespace(settings=SimpleNamespace(learned_situations=0.0)))  # type: ignore[arg-type]
    assert on._learned_situations(analysis("model+cues")) == [analysis("model+cues").situations[0]]  # type: ignore[arg-type]
    assert on._learned_situations(analysis("cues")) is None  # type: ignore[arg-type]  # rules only: cue patterns
    assert off._learned_situations(analysis("model+cues")) is None  # type: ignore[arg-type]
