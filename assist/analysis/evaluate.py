"""`assist eval analysis`: run the labelled message and conversation sets, report P/R/F1 and confusion."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assist.analysis.analyzer import Analyzer
from assist.languages import registry
from assist.vocab import CUE_KINDS, EMOTIONS, PROFILE

# The repo's eval sets (a tool, not package data): eval/analysis_*.yml at the repository root.
EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "eval"
MESSAGES = EVAL_DIR / "analysis_messages.yml"
CONVERSATIONS = EVAL_DIR / "analysis_conversations.yml"


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    text: str
    t: float


class MessageCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    lang: str
    text: str
    emotion: str
    cues: list[str] = []
    t: float | None = None
    context: list[Turn] = []  # earlier turns, for cues that need them

    @field_validator("emotion")
    @classmethod
    def _emotion(cls, v: str) -> str:
        if v not in EMOTIONS:
            raise ValueError(f"unknown emotion {v!r}")
        return v

    @field_validator("cues")
    @classmethod
    def _cues(cls, v: list[str]) -> list[str]:
        bad = sorted(set(v) - set(CUE_KINDS))
        if bad:
            raise ValueError(f"unknown cue kinds {bad}")
        return v


class ConversationCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    lang: str
    turns: list[Turn] = Field(min_length=1)
    profile: dict[str, str]

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: dict[str, str]) -> dict[str, str]:
        for dim, label in v.items():
            if label not in PROFILE.get(dim, ()):
                raise ValueError(f"unknown profile label {dim}:{label}")
        return v


def load_cases(path: Path, model: type[BaseModel]) -> list[Any]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [model.model_validate(item) for item in raw]


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "support": tp + fn}


def run_message(analyzer: Analyzer, case: MessageCase) -> dict[str, Any]:
    conv = analyzer.conversation()
    for turn in case.context:
        conv.add(turn.role, turn.text, turn.t)
    t = case.t if case.t is not None else (case.context[-1].t + 20 if case.context else 0.0)
    result = conv.add("customer", case.text, t).to_dict()
    cues = {c["kind"] for c in result["emotion"]["cues"] if c["message"] == result["message"]}
    return {"emotion": result["emotion"]["label"], "cues": cues, "lang": result["lang"]}


def evaluate_messages(analyzer: Analyzer, cases: list[MessageCase]) -> dict[str, Any]:
    confusion: dict[str, Counter[str]] = {e: Counter() for e in EMOTIONS}
    cue_counts = {k: Counter() for k in CUE_KINDS}  # type: dict[str, Counter[str]]
    errors = []
    lang_ok = 0
    for case in cases:
        got = run_message(analyzer, case)
        confusion[case.emotion][got["emotion"]] += 1
        lang_ok += got["lang"] == case.lang
        for kind in CUE_KINDS:
            want, have = kind in case.cues, kind in got["cues"]
            cue_counts[kind]["tp" if want and have else "fp" if have else "fn" if want else "tn"] += 1
        if got["emotion"] != case.emotion or set(case.cues) != got["cues"]:
            errors.append(
                {
                    "id": case.id,
                    "want": case.emotion,
                    "got": got["emotion"],
                    "cues_missing": sorted(set(case.cues) - got["cues"]),
                    "cues_extra": sorted(got["cues"] - set(case.cues)),
                }
            )
    per_label = {}
    for e in EMOTIONS:
        tp = confusion[e][e]
        fp = sum(confusion[o][e] for o in EMOTIONS if o != e)
        fn = sum(confusion[e].values()) - tp
        per_label[e] = prf(tp, fp, fn)
    macro = round(sum(v["f1"] for v in per_label.values()) / len(EMOTIONS), 3)
    correct = sum(confusion[e][e] for e in EMOTIONS)
    cues = {k: prf(c["tp"], c["fp"], c["fn"]) for k, c in cue_counts.items()}
    return {
        "count": len(cases),
        "by_lang": dict(Counter(c.lang for c in cases)),
        "lang_accuracy": round(lang_ok / len(cases), 3) if cases else 0.0,
        "emotion": {
            "macro_f1": macro,
            "accuracy": round(correct / len(cases), 3) if cases else 0.0,
            "per_label": per_label,
            "confusion": {e: {o: confusion[e][o] for o in EMOTIONS} for e in EMOTIONS},
        },
        "cues": cues,
        "errors": errors,
    }


def evaluate_conversations(analyzer: Analyzer, cases: list[ConversationCase]) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = {}
    errors = []
    for case in cases:
        result = analyzer.analyze_conversation([t.model_dump() for t in case.turns])
        for dim, label in case.profile.items():
            got = result["customer"][dim]["label"]
            key = f"{dim}:{label}"
            counts.setdefault(key, Counter())["hit" if got == label else "miss"] += 1
            if got != label:
                errors.append({"id": case.id, "dimension": dim, "want": label, "got": got})
        for dim, value in result["customer"].items():
            if value["label"] != "unknown" and dim not in case.profile:
                counts.setdefault(f"{dim}:{value['label']}", Counter())["unlabelled"] += 1
    per_label = {}
    for dim, labels in PROFILE.items():
        for label in labels:
            c = counts.get(f"{dim}:{label}", Counter())
            support = c["hit"] + c["miss"]
            per_label[f"{dim}:{label}"] = {
                "recall": round(c["hit"] / support, 3) if support else 0.0,
                "support": support,
            }
    return {
        "count": len(cases),
        "by_lang": dict(Counter(c.lang for c in cases)),
        "profile": per_label,
        "errors": errors,
    }


def evaluate(
    messages: Path = MESSAGES, conversations: Path = CONVERSATIONS, analyzer: Analyzer | None = None
) -> dict[str, Any]:
    analyzer = analyzer or Analyzer.load()
    msgs = load_cases(messages, MessageCase)
    convs = load_cases(conversations, ConversationCase)
    unknown = sorted({c.lang for c in [*msgs, *convs]} - set(registry().codes))
    if unknown:
        raise ValueError(f"unknown languages in the eval sets: {unknown}")
    return {"messages": evaluate_messages(analyzer, msgs), "conversations": evaluate_conversations(analyzer, convs)}
