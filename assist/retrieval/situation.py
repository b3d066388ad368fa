"""Situation detection for a customer message from per-language cue files (<language folder>/situations.yml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assist import datafile
from assist.datafile import DataFileInvalid, check_labels, check_regex
from assist.languages import registry
from assist.vocab import SITUATIONS

MIN_SCORE = 0.3


RuleFileInvalid = DataFileInvalid  # the one data-file error (assist.datafile)
CUES_FILE = "situations.yml"


class CuePattern(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str
    weight: float = Field(gt=0, le=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        return check_regex(v)


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
    """The language folder of a code (zh-Hans and zh-Hant share `zh`); unknown codes use the first language's."""
    languages = registry()
    lg = languages.by_code.get(lang)
    return (lg or languages.languages[0]).name


@lru_cache(maxsize=8)
def load_cues(folder: str) -> dict[str, tuple[SituationCues, list[tuple[re.Pattern[str], float]]]]:
    """Validated cues of one language folder, patterns compiled. A bad file names itself and the situation."""
    lg = registry().by_name.get(folder)
    if lg is None or not lg.path(CUES_FILE).is_file():
        raise RuleFileInvalid(f"no situation cues for language folder {folder!r} (expected {folder}/{CUES_FILE})")
    path = lg.path(CUES_FILE)
    out = {}
    for name, cues in datafile.load_mapping(path, SituationCues).items():
        try:
            check_labels([name], SITUATIONS, "situation")
        except ValueError as exc:
            raise RuleFileInvalid(f"{datafile.where(path)}: {exc}", file=datafile.where(path), entry=name) from None
        out[name] = (cues, [(re.compile(p.pattern), p.weight) for p in cues.patterns])
    return out


def detect_situations(text: str, lang: str, min_score: float = MIN_SCORE) -> list[SituationHit]:
    """Situations a customer message is about, best first, each with the spans that show it.

    Args:
        text: the customer's message.
        lang: its language code (a registered one; assist.languages); selects the cue file.
        min_score: situations scoring below this are left out.
    Returns:
        Hits with a score in (0, 1]: the noisy-or of the matched cue weights.
    """
    norm = registry().normalize(text).lower()
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
