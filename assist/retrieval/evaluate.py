"""Retrieval evaluation: hit@1, hit@3 and MRR per language and per channel over a labelled set."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from assist.retrieval.searcher import CHANNELS
from assist.suggest import Suggester
from assist.vocab import EMOTIONS, SITUATIONS

DEFAULT_SET = Path(__file__).resolve().parents[2] / "eval" / "retrieval.yml"
DEPTH = 10  # MRR looks this deep


class Turn(BaseModel):
    role: str
    text: str


class EvalItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    lang: str
    text: str
    situations: list[str] = Field(min_length=1)
    emotions: list[str] = Field(min_length=1)
    context: list[Turn] = Field(default_factory=list)

    def model_post_init(self, _: Any) -> None:
        bad = [s for s in self.situations if s not in SITUATIONS] + [e for e in self.emotions if e not in EMOTIONS]
        if bad:
            raise ValueError(f"{self.id}: unknown labels {bad}")


def load_set(path: Path = DEFAULT_SET) -> list[EvalItem]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a list of labelled messages")
    items = [EvalItem.model_validate(r) for r in rows]
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"{path}: id {item.id!r} appears twice")
        seen.add(item.id)
    return items


def relevant(item: EvalItem, suggestion: Mapping[str, Any]) -> bool:
    """A suggestion fits when it addresses an acceptable situation and suits an acceptable emotion."""
    return bool(set(item.situations) & set(suggestion["situations"])) and bool(
        set(item.emotions) & set(suggestion["emotions"])
    )


def evaluate(suggester: Suggester, items: Sequence[EvalItem], channels: Sequence[str] = CHANNELS) -> dict[str, Any]:
    """Score every channel on every item.

    Returns:
        {"channels": {channel: {lang | "all": {"n", "hit@1", "hit@3", "mrr", "sit@1"}}}, "misses": [...]} where
        hit@k counts a suggestion that fits a situation and an emotion of the message, sit@1 a first suggestion
        that fits a situation alone, and misses lists the items the full pipeline (rerank) gets wrong at 3.
    """
    sums: dict[str, dict[str, dict[str, float]]] = {c: defaultdict(lambda: defaultdict(float)) for c in channels}
    misses = []
    for item in items:
        turns = [t.model_dump() for t in item.context] + [{"role": "customer", "text": item.text}]
        for channel in channels:
            result = suggester.suggest(conversation=turns, k=DEPTH, channel=channel).model_dump()
            ranks = [i for i, s in enumerate(result["items"], 1) if relevant(item, s)]
            first = ranks[0] if ranks else None
            on_topic = [bool(set(item.situations) & set(s["situations"])) for s in result["items"][:1]]
            for group in (item.lang, "all"):
                row = sums[channel][group]
                row["n"] += 1
                row["hit@1"] += first == 1
                row["hit@3"] += first is not None and first <= 3
                row["mrr"] += 1.0 / first if first else 0.0
                row["sit@1"] += bool(on_topic[:1] and on_topic[0])  # top-1 fits a situation (issue 14's target)
            if channel == "rerank" and (first is None or first > 3):
                top = result["items"][:3]
                misses.append(
                    {
                        "id": item.id,
                        "want": {"situations": item.situations, "emotions": item.emotions},
                        "detected": {
                            "situations": [s["situation"] for s in result["situations"]],
                            "emotion": result["analysis"].get("emotion", {}).get("label"),
                        },
                        "top3": [
                            {"key": s["key"], "situations": s["situations"], "emotions": s["emotions"]} for s in top
                        ],
                    }
                )
    report: dict[str, Any] = {"channels": {}, "misses": misses, "n": len(items)}
    for channel, groups in sums.items():
        report["channels"][channel] = {
            group: {"n": int(r["n"]), **{m: round(r[m] / r["n"], 3) for m in ("hit@1", "hit@3", "mrr", "sit@1")}}
            for group, r in sorted(groups.items())
        }
    return report


def render(report: Mapping[str, Any]) -> str:
    """The report as a plain-text table."""
    lines = [f"{'channel':<9} {'lang':<8} {'n':>4} {'hit@1':>6} {'hit@3':>6} {'MRR':>6} {'sit@1':>6}"]
    for channel, groups in report["channels"].items():
        for group, r in groups.items():
            lines.append(
                f"{channel:<9} {group:<8} {r['n']:>4} {r['hit@1']:>6.3f} {r['hit@3']:>6.3f} {r['mrr']:>6.3f}"
                f" {r.get('sit@1', 0.0):>6.3f}"
            )
    lines.append(f"misses at 3 (rerank): {len(report['misses'])} of {report['n']}")
    return "\n".join(lines)
