"""CustomerTypeClassifier: the five profile dimensions, accumulated message by message with evidence."""

from __future__ import annotations

import math
from collections import Counter, deque
from typing import Any

from assist.analysis.emotion import Cue, Reading
from assist.analysis.schema import ConversationFile
from assist.vocab import PROFILE


class CustomerTypeClassifier:
    """Incremental: `update` takes one customer message; weights, counts and capped evidence per label."""

    def __init__(self, conf: ConversationFile) -> None:
        self.conf = conf
        self.th = conf.thresholds
        self.weights: dict[str, Counter[str]] = {dim: Counter() for dim in PROFILE}  # Counters of float weights
        self.counts: Counter[str] = Counter()
        self.evidence: dict[str, deque[dict[str, Any]]] = {}

    def _add(self, dim: str, label: str, weight: float, ev: dict[str, Any]) -> None:
        key = f"{dim}:{label}"
        self.weights[dim][label] += weight  # type: ignore[assignment]  # float weights in a Counter
        self.counts[key] += 1
        self.evidence.setdefault(key, deque(maxlen=self.th.evidence_max)).append(ev)
        for promo in self.conf.promotions:
            if promo.source == key and self.counts[key] == promo.at:
                tdim, _, tlabel = promo.target.partition(":")
                self.weights[tdim][tlabel] += promo.weight  # type: ignore[assignment]
                note = {**ev, "signal": f"promotion:{key}x{promo.at}"}
                self.evidence.setdefault(promo.target, deque(maxlen=self.th.evidence_max)).append(note)

    def update(self, r: Reading, cues: list[Cue]) -> None:
        seen: set[str] = set()
        for hit in r.signal_hits:
            e = hit.entry
            if e.id in seen:  # one entry counts once per message
                continue
            seen.add(e.id)
            ev = {
                "message": r.message,
                "text": r.text[hit.start : hit.end],
                "start": hit.start,
                "end": hit.end,
                "signal": e.id,
            }
            self._add(e.dimension, e.label, e.weight * hit.factor, ev)
        kinds = {c.kind: c for c in cues if c.message == r.message}
        for d in self.conf.derived:
            if d.cue is not None:
                cue = kinds.get(d.cue)
                if cue is None:
                    continue
                ev = {
                    "message": r.message,
                    "text": cue.text,
                    "start": cue.start,
                    "end": cue.end,
                    "signal": f"cue:{d.cue}",
                }
            else:
                if d.min_chars is not None and r.size < d.min_chars:
                    continue
                if d.max_chars is not None and (r.size > d.max_chars or r.size == 0):
                    continue
                ev = {
                    "message": r.message,
                    "text": r.text[:80],
                    "start": 0,
                    "end": min(len(r.text), 80),
                    "signal": f"length:{r.size}",
                }
            self._add(d.dimension, d.label, d.weight, ev)

    def dimension(self, dim: str) -> dict[str, Any]:
        ranked = self.weights[dim].most_common(2)
        if not ranked or ranked[0][1] < self.th.profile_min_weight:
            return {"label": "unknown", "confidence": 0.0, "evidence": []}
        label, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        confidence = (1 - math.exp(-top)) * top / (top + second)
        return {
            "label": label,
            "confidence": round(confidence, 2),
            "evidence": list(self.evidence.get(f"{dim}:{label}", ())),
        }

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {dim: self.dimension(dim) for dim in PROFILE}
