"""Rerank features (assist.retrieval.rerank) over hand-made label bitmasks; no model, no store."""

from __future__ import annotations

import numpy as np
import pytest

from assist.config import RetrievalSettings
from assist.retrieval.query import Query
from assist.retrieval.rerank import Reranker, RerankPrefs
from assist.retrieval.rows import EMO, NO_TECHNIQUE, SIT, TECH, TYPE, mask

PREFS = RerankPrefs(
    emotion_techniques={"anger": {"apology": 1.0, "acknowledge": 0.5}},
    profile_techniques={"price_attitude:haggler": {"redirect": 0.8}},
    situation_emotions={"delay": {"anxiety": 1.0}},
)


def rows(*phrases: tuple[list[str], list[str], list[str], str | None]) -> tuple[np.ndarray, ...]:
    """(situations, emotions, customer types, technique) per row -> the searcher's mask arrays."""
    sit = np.array([mask(p[0], SIT) for p in phrases], dtype=np.uint32)
    emo = np.array([mask(p[1], EMO) for p in phrases], dtype=np.uint32)
    typ = np.array([mask(p[2], TYPE) for p in phrases], dtype=np.uint32)
    tech = np.array([TECH.get(p[3] or "", NO_TECHNIQUE) for p in phrases], dtype=np.int64)
    return sit, emo, typ, tech


@pytest.fixture
def reranker() -> Reranker:
    return Reranker(RetrievalSettings(), PREFS)


def test_features_score_each_row_against_the_analysis(reranker: Reranker) -> None:
    arrays = rows(
        (["delay"], ["anger"], ["price_attitude:haggler"], "apology"),
        (["delay", "billing"], ["anxiety"], [], "redirect"),
        (["price"], ["neutral"], ["trust:skeptical"], None),
    )
    q = Query(
        "x",
        situations={"delay": 0.75, "billing": 0.25},
        emotion="anger",
        customer_types={"price_attitude:haggler": 0.5, "trust:skeptical": 1.0},
    )
    f = reranker.features(q, reranker.emotion_scores(q), *arrays)
    np.testing.assert_allclose(f["situation"], [0.75, 1.0, 0.0])  # share of the situation mass a row answers
    np.testing.assert_allclose(f["emotion"], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(f["customer"], [0.25, 0.0, 0.5])  # summed confidences over the known types
    np.testing.assert_allclose(f["technique"], [1.0, 0.4, 0.0])  # anger -> apology; haggler 0.5 x redirect 0.8


def test_emotion_scores_scale_to_the_top_and_keep_the_best(reranker: Reranker) -> None:
    arrays = rows(([], ["anger"], [], None), ([], ["anxiety", "anger"], [], None), ([], ["confusion"], [], None))
    q = Query("x", emotion="anger", emotion_scores={"anger": 0.8, "anxiety": 0.4})
    f = reranker.features(q, reranker.emotion_scores(q), *arrays)
    np.testing.assert_allclose(f["emotion"], [1.0, 1.0, 0.0])
    q = Query("x", emotion="anxiety", emotion_scores={"anger": 0.8, "anxiety": 0.4})
    np.testing.assert_allclose(reranker.features(q, {"anxiety": 0.4}, *arrays)["emotion"], [0.0, 1.0, 0.0])


def test_a_neutral_message_borrows_the_emotions_its_situations_imply(reranker: Reranker) -> None:
    q = Query("x", situations={"delay": 1.0}, emotion="neutral", emotion_scores={"neutral": 1.0})
    w = RetrievalSettings().situation_emotion_weight
    assert reranker.emotion_scores(q) == pytest.approx({"neutral": 1 - w, "anxiety": w})
    assert reranker.emotion_scores(Query("x", emotion="neutral")) == {"neutral": 1.0}  # no situation: as it is


def test_total_weights_the_features() -> None:
    s = RetrievalSettings()
    one = np.ones(2, dtype=np.float32)
    total = Reranker(s, PREFS).total(one * 0.5, dict.fromkeys(("situation", "emotion", "customer", "technique"), one))
    expected = 0.5 * s.w_text + s.w_situation + s.w_emotion + s.w_customer + s.w_technique
    np.testing.assert_allclose(total, [expected, expected], rtol=1e-6)


def test_prefs_refuse_unknown_labels() -> None:
    with pytest.raises(ValueError, match="unknown technique"):
        RerankPrefs(
            emotion_techniques={"anger": {"shouting": 1.0}}, profile_techniques={}, situation_emotions={}
        ).vectors()
    with pytest.raises(ValueError, match="unknown emotion"):
        RerankPrefs(emotion_techniques={"rage": {}}, profile_techniques={}, situation_emotions={}).vectors()
    with pytest.raises(ValueError, match="situation_emotions"):
        RerankPrefs(emotion_techniques={}, profile_techniques={}, situation_emotions={"weather": {"anger": 1.0}})
