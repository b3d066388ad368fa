"""`assist train flagger`'s pieces: clause labels from the rules, and the model file round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.rewrite import Rewriter
from assist.rewrite.learned import CLEAN, Flagger

pytest.importorskip("sklearn")
from assist.rewrite import training

RULES = Rewriter.load(learned=False)


def test_clauses_are_labelled_by_the_rules() -> None:
    drafts = [
        {"id": "a", "lang": "zh-Hans", "text": "好的，已经为您登记。", "families": []},
        {"id": "b", "lang": "zh-Hans", "text": "收到，这个我们没办法退。", "families": ["refusal"]},
        {"id": "c", "lang": "en", "text": "Zzz qqq.", "families": ["refusal"]},  # negative, missed: left out
    ]
    rows = training.rows_of(RULES, drafts)
    assert [(r.draft, r.label) for r in rows] == [("a", CLEAN), ("a", CLEAN), ("b", CLEAN), ("b", "refusal")]
    assert rows[0].clean_draft and not rows[2].clean_draft


def test_a_fitted_model_round_trips_through_the_file(tmp_path: Path) -> None:
    rows = [
        training.Row("en", t, label, str(i), label == CLEAN)
        for i, (t, label) in enumerate(
            [("we can't do that", "refusal"), ("we cannot refund it", "refusal"), ("no we can't", "refusal")] * 3
            + [("thanks for waiting", CLEAN), ("your refund is on its way", CLEAN), ("happy to help", CLEAN)] * 3
        )
    ]
    model = training._fit(rows, "en", 10.0)
    out = tmp_path / "f.npz"
    training.export({"en": (model, 0.6, "en")}, out)
    flagger = Flagger.load(out)
    assert flagger is not None and flagger.has("en") and not flagger.has("zh")
    for text in ("we can't do that", "thanks for waiting"):
        expected = float(training._p_neg(model, [text])[0])
        assert flagger.score("en", text)[0] == pytest.approx(expected, abs=0.02)
    assert flagger.flag("en", "we can't do that") == "refusal"
    assert flagger.flag("en", "happy to help") is None
