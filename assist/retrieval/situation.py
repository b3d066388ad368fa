"""Situation detection for a customer message from per-language cue files (data/<lang>/situations.yml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assist.errors import AssistError
from assist.lang import to_simplified
from assist.vocab import SITUATIONS

MIN_SCORE = 0.3


class RuleFileInvalid(AssistError):
    status, code = 500, "rule_file_invalid"


class CuePattern(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str
    weight: float = Field(gt=0, le=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"bad regular expression {v!r}: {exc}") from exc
        return v


class CueExample(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    text: str
    expect: str | None = None
    not_: str | None = Field(None, alias="not")


class SituationCues(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patterns: list[CuePattern]
    examples: list[CueExample] = Field(min_length=1)


@dataclass(slots=True)
class SituationHit:
    situation: str
    score: float
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"situation": self.situation, "score": round(self.score, 3), "evidence": self.evidence}


def data_dir(lang: str) -> str:
    """The data folder of a language code: zh-Hans and zh-Hant share `zh`."""
    return lang.split("-", 1)[0]


@lru_cache(maxsize=8)
def load_cues(folder: str) -> dict[str, tuple[SituationCues, list[tuple[re.Pattern[str], float]]]]:
    """Validated cues of one language folder, patterns compiled. A bad file names itself and the situation."""
    path = resources.files("assist.retrieval").joinpath("data").joinpath(folder).joinpath("situations.yml")
    if not path.is_file():
        raise RuleFileInvalid(f"no situation cues for language folder {folder!r} (expected {path})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for name, body in raw.items():
        if name not in SITUATIONS:
            raise RuleFileInvalid(f"{path}: unknown situation {name!r}; allowed: {', '.join(SITUATIONS)}")
        try:
            cues = SituationCues.model_validate(body)
        except ValidationError as exc:
            raise RuleFileInvalid(f"{path}: situation {name!r}: {exc}") from exc
        out[name] = (cues, [(re.compile(p.pattern), p.weight) for p in cues.patterns])
    return out


def detect_situations(text: str, lang: str, min_score: float = MIN_SCORE) -> list[SituationHit]:
    """Situations a customer message is about, best first, each with the spans that show it.

    Args:
        text: the customer's message.
        lang: its language code (zh-Hans, zh-Hant, en); selects the cue file.
        min_score: situations scoring below this are left out.
    Returns:
        Hits with a score in (0, 1]: the noisy-or of the matched cue weights.
    """
    norm = to_simplified(text).lower()
    aligned = len(norm) == len(text)
    hits = []
    for name, (_, compiled) in load_cues(data_dir(lang)).items():
        miss = 1.0
        evidence = []
        for pattern, weight in compiled:
            m = pattern.search(norm)
            if m and m.end() > m.start():
                miss *= 1.0 - weight
                span = text[m.start() : m.end()] if aligned else m.group(0)
                evidence.append({"text": span, "start": m.start(), "end": m.end()})
        score = 1.0 - miss
        if score >= min_score:
            hits.append(SituationHit(name, score, evidence))
    hits.sort(key=lambda h: (-h.score, SITUATIONS.index(h.situation)))
    return hits
