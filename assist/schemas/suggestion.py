"""Situations of a message, ranked replies with their structured reasons, and the result of a suggestion."""

from __future__ import annotations

from typing import Any

from pydantic import Field, computed_field, model_validator
from typing_extensions import TypedDict

from assist.bank.schema import Source
from assist.schemas._base import Schema, omitted_when_empty
from assist.schemas.analysis import Analysis


class Span(TypedDict):
    text: str
    start: int
    end: int


class Situation(Schema):
    """A situation the message (or, discounted, an earlier customer message) is about."""

    situation: str
    score: float
    evidence: list[Span]
    from_earlier: bool = omitted_when_empty(False, description="carried over from an earlier customer message")


class Learned(Schema):
    """What the agent's team did with this phrase for similar earlier messages (assist/bank/feedback.py)."""

    used: int = Field(description="times used for the nearest earlier messages")
    dismissed: int = Field(description="times dismissed for them")


class Reasons(Schema):
    """Why a reply was suggested, as labels the UI words in its own language (DESIGN §2 vocabulary)."""

    emotions: list[str] = Field(default_factory=list, description="the phrase's emotions the message has")
    other_reading: str | None = Field(None, description="an emotion of another likely reading it answers")
    situations: list[str] = Field(default_factory=list, description="the phrase's situations the message has")
    profile_fits: list[str] = Field(default_factory=list, description="customer types (dimension:label) it fits")
    technique: str | None = None
    shared_terms: list[str] = Field(default_factory=list, description="words of the message the phrase shares")
    learned: Learned | None = omitted_when_empty(
        description="agents of the team used / dismissed it for similar messages (left out when neither)"
    )

    def english(self) -> str:
        """One English line for the CLI's text output (the UI renders the fields itself)."""
        parts = []
        labels = self.emotions + ([f"{self.other_reading} (other reading)"] if self.other_reading else [])
        if labels or self.situations:
            parts.append(" + ".join(labels + self.situations))
        if self.profile_fits:
            parts.append("fits " + ", ".join(self.profile_fits))
        if self.technique:
            parts.append(f"technique: {self.technique}")
        if self.shared_terms:
            parts.append("shares " + ", ".join(self.shared_terms))
        if self.learned is not None:
            done = [f"used {self.learned.used}x"] if self.learned.used else []
            done += [f"dismissed {self.learned.dismissed}x"] if self.learned.dismissed else []
            parts.append(" and ".join(done) + " for similar messages")
        return "; ".join(parts)


class Suggestion(Schema):
    """One reply from the bank, its placeholders filled where the values are known."""

    phrase_id: int
    key: str
    text: str = Field(description="the reply, known placeholders filled")
    template: str = Field(description="the phrase's text in the message's language, as stored")
    slots: list[str] = Field(description="placeholders still to fill")
    score: float
    situations: list[str]
    emotions: list[str]
    customer_types: list[str]
    technique: str | None
    source: Source | None
    reasons: Reasons

    @model_validator(mode="before")
    @classmethod
    def _derived(cls, data: Any) -> Any:
        """A suggestion read back (shared state in Redis) carries `why`, which is derived: dropped."""
        if isinstance(data, dict) and "why" in data:
            data = {k: v for k, v in data.items() if k != "why"}
        return data

    @computed_field(description="`reasons` in English, for text output; derived, never parsed")  # type: ignore[prop-decorator]
    @property
    def why(self) -> str:
        return self.reasons.english()


class SuggestResult(Schema):
    """Replies for the latest customer message: its language, situations and analysis, and the ranked items."""

    lang: str
    situations: list[Situation]
    analysis: Analysis
    items: list[Suggestion]
