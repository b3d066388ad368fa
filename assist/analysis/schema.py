"""Pydantic models of the analysis data files (lexicons, cue patterns, profile signals, hints, thresholds)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assist.datafile import check_labels, check_regex
from assist.languages import registry
from assist.vocab import CUE_KINDS, EMOTIONS, PROFILE

_ID = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+\.v\d+$")


def _check_emotions(weights: dict[str, float]) -> dict[str, float]:
    check_labels(weights, EMOTIONS, "emotion(s)")
    return weights


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Example(Strict):
    """`hit`: the entry fires on `text`; `span`: the text it marks; `emotion`: the message's primary label."""

    text: str
    hit: bool = True
    span: str | None = None
    emotion: str | None = None

    @field_validator("emotion")
    @classmethod
    def _emotion(cls, v: str | None) -> str | None:
        if v is not None:
            check_labels([v], EMOTIONS, "emotion")
        return v


class Entry(Strict):
    """One lexicon entry: literal `terms` (a trailing `*` takes any word ending) and/or regex `patterns`."""

    id: str
    terms: list[str] = []
    patterns: list[str] = []
    negatable: bool = True
    examples: list[Example] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"id {v!r} must look like `en.anger.furious.v1`")
        return v

    @field_validator("terms", mode="before")
    @classmethod
    def _numbers(cls, v: object) -> object:
        # YAML reads 12315 or 404 as numbers; a term is always text.
        return (
            [str(t) if isinstance(t, int | float) and not isinstance(t, bool) else t for t in v]
            if isinstance(v, list)
            else v
        )

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return [check_regex(p) for p in v]

    @model_validator(mode="after")
    def _something(self) -> Entry:
        if not self.terms and not self.patterns:
            raise ValueError(f"{self.id}: needs terms or patterns")
        return self


class EmotionEntry(Entry):
    emotion: dict[str, float]
    negated: dict[str, float] | None = None  # weights when a negator precedes; default: the file's `negated`

    @field_validator("emotion", "negated")
    @classmethod
    def _emotions(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        return v if v is None else _check_emotions(v)


class CueEntry(Entry):
    kind: str
    context: Literal["any", "negative"] = "any"  # `negative`: only a cue after or beside a complaint
    whole: bool = False  # must be the whole message (punctuation aside): one-word replies

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        check_labels([v], CUE_KINDS, "cue kind")
        return v


class SignalEntry(Entry):
    dimension: str
    label: str
    weight: float = Field(1.0, gt=0, le=3)

    @model_validator(mode="after")
    def _label(self) -> SignalEntry:
        if self.label not in PROFILE.get(self.dimension, ()):
            raise ValueError(f"{self.id}: unknown profile label {self.dimension}:{self.label}")
        return self


class Valence(Strict):
    backend: str
    min_abs: float = 0.3
    negative: dict[str, float]
    positive: dict[str, float]


class Modifier(Strict):
    pattern: str
    factor: float = Field(gt=0, le=3)

    @field_validator("pattern")
    @classmethod
    def _re(cls, v: str) -> str:
        return check_regex(v)


class Manifest(Strict):
    """`analysis/matching.yml` of a language (or `data/common/`): how its terms are matched and negated. Which
    codes it reads and their matching form come from the language's manifest (assist.languages)."""

    word_boundaries: bool = False
    negators: str | None = None
    negation_window: int = Field(4, ge=1, le=40)
    clause_break: str = r"[,.;!?，。；！？\n]"
    contrast: str | None = None  # "but": what follows weighs more than what precedes
    contrast_factor: float = Field(1.5, ge=1, le=3)
    intensifiers: Modifier | None = None
    diminishers: Modifier | None = None
    valence: Valence | None = None

    @field_validator("negators", "clause_break", "contrast")
    @classmethod
    def _re(cls, v: str | None) -> str | None:
        return v if v is None else check_regex(v)


class EmotionFile(Strict):
    negated: dict[str, dict[str, float]] = {}  # label -> weights when negated, for entries without their own
    entries: list[EmotionEntry] = []


class CueFile(Strict):
    entries: list[CueEntry] = []
    refusals: list[Entry] = []  # agent replies that refuse; the customer's praise after them is sarcasm
    questions: list[Entry] = []  # agent questions: a long wait after one is the customer's silence


class SignalFile(Strict):
    entries: list[SignalEntry] = []


class CueEffect(Strict):
    emotion: dict[str, float] = {}
    intensity: float = 0.0

    @field_validator("emotion")
    @classmethod
    def _e(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_emotions(v)


class DerivedSignal(Strict):
    """A profile signal the conversation derives from cues or message shape, not from words."""

    dimension: str
    label: str
    weight: float
    cue: str | None = None  # fires when the message carries this cue kind
    min_chars: int | None = None  # ... or when the message is at least this long (CJK chars + Latin words)
    max_chars: int | None = None


class Promotion(Strict):
    """Repeated evidence for one label also counts for another (two soft price asks make a haggler)."""

    source: str  # "dimension:label"
    target: str
    at: int = 2
    weight: float = 1.0


class Thresholds(Strict):
    max_chars: int = 4000
    neutral_base: float = 0.6
    intensity_rate: float = 0.8
    repetition_window: int = 8
    repetition_min_grams: int = 4
    repetition_containment: float = 0.5
    repetition_jaccard: float = 0.3
    burst_messages: int = 3
    burst_window_s: float = 30.0
    burst_gap_s: float = 12.0
    silence_gap_s: float = 120.0
    carry_decay: float = 0.5
    carry_max_gap_s: float = 600.0
    trend_delta: float = 0.15
    trajectory_max: int = 200
    evidence_max: int = 5
    profile_min_weight: float = 0.6
    hint_min_intensity: float = 0.4
    hint_min_confidence: float = 0.35


class ConversationFile(Strict):
    thresholds: Thresholds = Thresholds()
    negative_emotions: list[str]
    cue_effects: dict[str, CueEffect]
    after_refusal: dict[str, float] = {}  # added to the customer's next message after an agent refusal
    derived: list[DerivedSignal] = []
    promotions: list[Promotion] = []

    @field_validator("cue_effects")
    @classmethod
    def _kinds(cls, v: dict[str, CueEffect]) -> dict[str, CueEffect]:
        check_labels(v, CUE_KINDS, "cue kind(s)")
        return v


class Hint(Strict):
    id: str
    target: str  # "emotion:anger" or "temperament:silent"
    technique: str
    source: str  # seed citation
    text: dict[str, str]

    @model_validator(mode="after")
    def _target(self) -> Hint:
        dim, _, label = self.target.partition(":")
        ok = label in EMOTIONS if dim == "emotion" else label in PROFILE.get(dim, ())
        if not ok:
            raise ValueError(f"{self.id}: unknown hint target {self.target!r}")
        check_labels(self.text, registry().codes, "language code")
        if "en" not in self.text:
            raise ValueError(f"{self.id}: text missing for ['en'] (the fallback of languages without their own)")
        return self


class HintFile(Strict):
    hints: list[Hint]
