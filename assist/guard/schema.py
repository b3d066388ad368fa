"""A guard rule as written in YAML/CSV/JSONL, sent to the API and shipped per language, with its validation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from assist.bank.schema import Key, Lang, Source, Team
from assist.guard.fold import fold

# A rule's own fields, as the store versions them and the CSV columns list them (beside key, status, source).
RULE_FIELDS = (
    "kind",
    "category",
    "severity",
    "phrases",
    "exceptions",
    "when",
    "triggers",
    "reply",
    "teams",
    "langs",
    "why",
)

Kind = Literal["forbidden", "must_say"]
Severity = Literal["warn", "block"]
When = Literal["first_reply", "closing", "by_reply"]
RuleStatus = Literal["active", "retired"]
KINDS: tuple[str, ...] = ("forbidden", "must_say")
SEVERITIES: tuple[str, ...] = ("warn", "block")
WHENS: tuple[str, ...] = ("first_reply", "closing", "by_reply")

Expression = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def _expressions(values: list[str], what: str) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for v in values:
        folded = fold(v)
        if not folded.strip():
            raise ValueError(f"{what}: {v!r} is empty once folded")
        if folded not in seen:
            seen.add(folded)
            out.append(v)
    return out


class GuardFields(BaseModel):
    """What a lead sets on a rule (every field; a PATCH sends some of them)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = "forbidden"
    category: Category = Field(description="e.g. rude, blame, buck, promise, greeting, closing, disclosure")
    severity: Severity = Field("warn", description="warn: shown, the send goes on; block: the send is stopped")
    phrases: list[Expression] = Field(
        min_length=1,
        max_length=100,
        description="forbidden: any of these is a hit; must_say: any of these satisfies the check",
    )
    exceptions: list[Expression] = Field(
        default_factory=list, max_length=100, description="forbidden: longer expressions around a phrase that are fine"
    )
    when: When | None = Field(None, description="must_say: first_reply | closing | by_reply")
    triggers: list[Expression] = Field(
        default_factory=list, max_length=100, description="must_say closing: what makes a draft a closing"
    )
    reply: int | None = Field(None, ge=1, le=50, description="must_say by_reply: said by the agent's Nth reply")
    teams: list[Team] = Field(default_factory=list, description="team scope; empty means everyone")
    langs: list[Lang] = Field(
        default_factory=list, description="language codes of the drafts it applies to; empty means every language"
    )
    why: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(
        description="shown to the agent with the hit"
    )
    source: Source | None = None
    status: RuleStatus = "active"

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, v: list[str]) -> list[str]:
        return _expressions(v, "phrases")

    @field_validator("exceptions", "triggers")
    @classmethod
    def _others(cls, v: list[str]) -> list[str]:
        return _expressions(v, "exceptions/triggers")

    @field_validator("teams")
    @classmethod
    def _teams(cls, v: list[str]) -> list[str]:
        return sorted(set(v))

    @field_validator("langs")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _shape(self) -> GuardFields:
        if self.kind == "forbidden":
            if self.when is not None or self.triggers or self.reply is not None:
                raise ValueError("a forbidden rule has no when, triggers or reply (those are for must_say)")
            folded = [fold(p) for p in self.phrases]
            for e in self.exceptions:
                if not any(p in fold(e) for p in folded):
                    raise ValueError(f"exception {e!r} contains none of the phrases, so it would never apply")
        else:
            if self.exceptions:
                raise ValueError("a must_say rule has no exceptions")
            if self.when is None:
                raise ValueError("a must_say rule needs when: first_reply, closing or by_reply")
            if self.when == "closing" and not self.triggers:
                raise ValueError("a closing check needs triggers (what makes a draft a closing)")
            if self.when != "closing" and self.triggers:
                raise ValueError("triggers are for when: closing")
            if (self.when == "by_reply") != (self.reply is not None):
                raise ValueError("reply (the agent's Nth reply) goes with when: by_reply, and only with it")
        return self


class GuardRuleIn(GuardFields):
    """One rule as imported, created or shipped. `key` is the stable id that makes loading idempotent."""

    key: Key | None = None


class GuardExample(BaseModel):
    """A shipped rule's example, run by tests/guard: the draft (and the agent's earlier replies) and whether the
    rule fires."""

    model_config = ConfigDict(extra="forbid")
    text: str
    lang: str | None = Field(None, description="the draft's language code (default: the rule's first)")
    replies: list[str] = Field(default_factory=list, description="the agent's earlier replies, oldest first")
    team: str | None = None
    fires: bool


class ShippedRule(GuardRuleIn):
    key: Key
    examples: list[GuardExample] = Field(min_length=2)

    @model_validator(mode="after")
    def _both(self) -> ShippedRule:
        if not any(e.fires for e in self.examples) or all(e.fires for e in self.examples):
            raise ValueError(f"rule {self.key}: examples must include one that fires and one that does not")
        return self
