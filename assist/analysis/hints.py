"""Strategy hints for the agent, per strong emotion and per profile label, from data/hints.yml (seed-cited)."""

from __future__ import annotations

from typing import Any

from assist.analysis.schema import HintFile, Thresholds


class HintBook:
    def __init__(self, hints: HintFile, th: Thresholds) -> None:
        self.th = th
        self.by_target: dict[str, list[Any]] = {}
        for hint in hints.hints:
            self.by_target.setdefault(hint.target, []).append(hint)

    def select(self, emotion: dict[str, Any], customer: dict[str, dict[str, Any]], lang: str) -> list[dict[str, Any]]:
        """Hints in the customer's language: the emotion's first, then each confident profile label's."""
        targets: list[tuple[str, float]] = []
        if emotion["label"] != "neutral" and emotion["intensity"] >= self.th.hint_min_intensity:
            targets.append((f"emotion:{emotion['label']}", emotion["intensity"]))
        for dim, value in customer.items():
            if value["label"] != "unknown" and value["confidence"] >= self.th.hint_min_confidence:
                targets.append((f"{dim}:{value['label']}", value["confidence"]))
        out = []
        for target, strength in targets:
            for hint in self.by_target.get(target, ()):
                out.append(
                    {
                        "id": hint.id,
                        "for": target,
                        "strength": round(strength, 2),
                        "technique": hint.technique,
                        "text": hint.text.get(lang) or hint.text["en"],
                        "source": hint.source,
                    }
                )
        return out
