"""Rerank features: how well each row answers the analysis of the message (situation, emotion, customer
profile, technique), computed over the rows' label bitmasks at once."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from assist import datafile
from assist.config import RetrievalSettings
from assist.datafile import check_labels
from assist.retrieval.query import Query
from assist.retrieval.rows import EMO, SIT, TECH, TYPE
from assist.vocab import EMOTIONS, PROFILE_LABELS, SITUATIONS, TECHNIQUES

# Every situation / emotion bitmask as a row of 0/1: a query's weights turn into one score per mask value,
# which a row's mask then looks up (one gather over the bank instead of a pass per label).
_SIT_BITS = ((np.arange(1 << len(SITUATIONS))[:, None] >> np.arange(len(SITUATIONS))) & 1).astype(np.float32)
_EMO_BITS = ((np.arange(1 << len(EMOTIONS))[:, None] >> np.arange(len(EMOTIONS))) & 1).astype(np.float32)


class RerankPrefs(BaseModel):
    """Which techniques suit which emotion and which customer type (data/rerank.yml)."""

    model_config = ConfigDict(extra="forbid")
    emotion_techniques: dict[str, dict[str, float]]
    profile_techniques: dict[str, dict[str, float]]
    situation_emotions: dict[str, dict[str, float]]
    presuming_types: dict[str, str] = {}  # profile label -> why its phrases need evidence of it to lead

    def model_post_init(self, _: Any) -> None:
        check_labels(self.situation_emotions, SITUATIONS, "situation(s) under situation_emotions")
        check_labels(self.presuming_types, PROFILE_LABELS, "profile label(s) under presuming_types")
        for emotions in self.situation_emotions.values():
            check_labels(emotions, EMOTIONS, "emotion(s) under situation_emotions")

    def vectors(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        def vec(prefs: dict[str, float], where: str) -> np.ndarray:
            out = np.zeros(len(TECHNIQUES) + 1, dtype=np.float32)  # last slot: phrase without technique
            check_labels(prefs, TECHNIQUES, f"technique(s) under {where}")
            for tech, w in prefs.items():
                out[TECH[tech]] = w
            return out

        check_labels(self.emotion_techniques, EMOTIONS, "emotion label(s)")
        check_labels(self.profile_techniques, PROFILE_LABELS, "profile label(s)")
        return (
            {e: vec(p, e) for e, p in self.emotion_techniques.items()},
            {t: vec(p, t) for t, p in self.profile_techniques.items()},
        )


@lru_cache(maxsize=1)
def load_prefs() -> RerankPrefs:
    return datafile.load(resources.files("assist.retrieval").joinpath("data", "rerank.yml"), RerankPrefs)


class Reranker:
    """Turns a query's analysis into one score per row and feature from the rows' label bitmasks."""

    def __init__(self, settings: RetrievalSettings, prefs: RerankPrefs | None = None) -> None:
        self.settings = settings
        prefs = prefs or load_prefs()
        self.emotion_tech, self.profile_tech = prefs.vectors()
        self.situation_emotions = prefs.situation_emotions
        self.presuming = sum(1 << TYPE[t] for t in prefs.presuming_types)  # bitmask over rows.type

    def unfounded(self, q: Query, type_masks: np.ndarray) -> np.ndarray:
        """Per row: whether it is tagged with a presuming customer type (rerank.yml `presuming_types`) and the
        profile shows evidence of none of its types, so it should not lead the suggestions."""
        evidence = sum(1 << TYPE[t] for t, c in q.customer_types.items() if t in TYPE and c > 0)
        masks = type_masks.astype(np.int64)
        return ((masks & self.presuming) != 0) & ((masks & evidence) == 0)

    def emotion_scores(self, q: Query) -> dict[str, float]:
        """The emotions the message shows; with none, what its situations imply (rerank.yml), both scaled to 1."""
        mass = sum(q.situations.values())
        scores = dict(q.emotion_scores) if any(q.emotion_scores.values()) else ({q.emotion: 1.0} if q.emotion else {})
        if q.emotion in (None, "neutral") and mass:
            implied: dict[str, float] = {}
            for name, conf in q.situations.items():
                for emotion, w in self.situation_emotions.get(name, {}).items():
                    implied[emotion] = implied.get(emotion, 0.0) + conf * w
            w = self.settings.situation_emotion_weight
            top_a, top_i = max(scores.values(), default=0.0) or 1.0, max(implied.values(), default=0.0) or 1.0
            scores = {
                e: (1 - w) * scores.get(e, 0.0) / top_a + w * implied.get(e, 0.0) / top_i
                for e in set(scores) | set(implied)
            }
        return scores

    def features(
        self,
        q: Query,
        scores: dict[str, float],
        sit_masks: np.ndarray,
        emo_masks: np.ndarray,
        type_masks: np.ndarray,
        techs: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Per row: situation, emotion, customer and technique scores, each in [0, 1].

        Args:
            q: the query (situations, emotion, customer types).
            scores: emotion -> score, from `emotion_scores`.
            sit_masks, emo_masks, type_masks: the rows' label bitmasks (see rows.py).
            techs: the rows' technique index (len(TECHNIQUES) for none).
        """
        n = len(sit_masks)
        mass = sum(q.situations.values())
        weights = np.zeros(len(SITUATIONS), dtype=np.float32)
        for name, conf in q.situations.items():
            if name in SIT:
                weights[SIT[name]] += conf
        sit = (_SIT_BITS @ (weights / mass if mass else weights))[sit_masks]
        top_emotion = max(scores.values(), default=0.0) or 1.0
        weights = np.zeros(len(EMOTIONS), dtype=np.float32)
        for name, score in scores.items():
            if name in EMO and score > 0:
                weights[EMO[name]] = score / top_emotion
        emo = (_EMO_BITS * weights).max(axis=1)[emo_masks]
        cust = np.zeros(n, dtype=np.float32)
        known = {t: c for t, c in q.customer_types.items() if t in TYPE and c > 0}
        for name, conf in known.items():
            cust += conf * ((type_masks >> TYPE[name]) & 1)
        if known:
            cust /= len(known)
        pref = np.zeros(len(TECHNIQUES) + 1, dtype=np.float32)
        if q.emotion in self.emotion_tech:
            pref = np.maximum(pref, self.emotion_tech[q.emotion])
        for name, conf in known.items():
            if name in self.profile_tech:
                pref = np.maximum(pref, conf * self.profile_tech[name])
        tech = pref[techs]
        return {"situation": sit, "emotion": emo, "customer": cust, "technique": tech}

    def total(self, fused: np.ndarray, features: dict[str, np.ndarray]) -> np.ndarray:
        """The weighted sum of the fused text score and the features (settings.w_*)."""
        s = self.settings
        return (
            s.w_text * fused
            + s.w_situation * features["situation"]
            + s.w_emotion * features["emotion"]
            + s.w_customer * features["customer"]
            + s.w_technique * features["technique"]
        )
