"""What the analysis of a message (in its conversation) finds: emotion with cues, trajectory, profile, hints.

These mirror `assist.analysis.conversation.Analysis.to_dict()` field for field, so the JSON is unchanged.
The many small records (cues, trajectory points, evidence) are TypedDicts: validated as fast as dicts are
read, and documented in the OpenAPI schema all the same."""

from __future__ import annotations

from typing import Annotated, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from assist.schemas._base import Schema


class Cue(TypedDict):
    """A context cue (sigh, repetition, burst, sarcasm, ...) and the span of the message that carries it."""

    kind: str
    text: str
    start: Annotated[int, Field(description="offset into the message, in Unicode code points")]
    end: int
    message: Annotated[int, Field(description="the message's number in the conversation, from 0")]
    ref: NotRequired[Annotated[list[int], Field(description="earlier messages the cue points at")]]


class Emotion(Schema):
    label: str
    intensity: float
    scores: dict[str, float]
    cues: list[Cue]
    source: str = Field("rules", description='"model+rules" when the learned model read it, else "rules"')


class SituationSpan(TypedDict):
    text: str
    start: int
    end: int


class SituationRead(TypedDict):
    """A situation of the customer message: the cue patterns' spans, the fused score."""

    situation: str
    score: float
    evidence: list[SituationSpan]
    source: Annotated[str, Field(description='"model+cues" or "cues"')]


class ModelState(TypedDict):
    """Whether the learned emotion/situation models run (the configured encoder is the one they were trained
    on) and, when not, why."""

    active: bool
    encoder: str | None
    trained_for: str | None
    note: str


class TrajectoryPoint(TypedDict):
    message: int
    t: float
    label: str
    intensity: float


class ProfileEvidence(TypedDict):
    message: int
    text: str
    start: int
    end: int
    signal: Annotated[str, Field(description="the lexicon entry id, `cue:<kind>`, `length:<n>` or `promotion:...`")]


class ProfileDimension(Schema):
    """One dimension of the customer profile (temperament, trust, ...): `unknown` until evidence suffices."""

    label: str
    confidence: float
    evidence: list[ProfileEvidence]


class Hint(Schema):
    """A strategy hint for the agent, in the customer's language, for a strong emotion or a profile label."""

    id: str
    for_: str = Field(alias="for", description='what it answers: "emotion:anger" or "temperament:silent"')
    strength: float
    technique: str
    text: str
    source: str


class Analysis(Schema):
    """The state after one message of a conversation (or one message read alone)."""

    lang: str
    mixed: bool
    truncated: bool
    message: int
    role: str
    emotion: Emotion
    trajectory: list[TrajectoryPoint]
    trend: str
    customer: dict[str, ProfileDimension]
    hints: list[Hint]
    situations: list[SituationRead] = Field(default_factory=list)
    model: ModelState | None = None
