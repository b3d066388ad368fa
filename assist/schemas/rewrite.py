"""A rewritten draft: every change and every flag points into the original by offsets."""

from __future__ import annotations

from pydantic import Field

from assist.schemas._base import Schema


class Change(Schema):
    start: int = Field(description="offset into `original`, in Unicode code points")
    end: int
    before: str
    after: str
    rule: str
    why: str


class FlagPhrase(Schema):
    """A bank phrase for a flagged sentence's situation (what to say instead, when no safe rewrite exists)."""

    id: int
    key: str
    text: str = Field(description="the phrase in the draft's language")


class Flag(Schema):
    start: int
    end: int
    text: str
    rule: str
    why: str
    family: str | None = Field(None, description="negative family (refusal, blame, buck, …) when detected")
    principle: str | None = None
    situation: str | None = Field(None, description="what the flagged sentence is about, for bank phrases")
    phrases: list[FlagPhrase] = Field(
        default_factory=list,
        description="2-3 approved bank phrases for the situation (family flags, filled by /api/check, "
        "/api/rewrite and the websocket `rewrite` frame when the bank has them)",
    )


class RewriteResult(Schema):
    lang: str
    original: str
    rewritten: str
    changed: bool
    changes: list[Change]
    flags: list[Flag]
