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


class Flag(Schema):
    start: int
    end: int
    text: str
    rule: str
    why: str
    family: str | None = Field(None, description="negative family (refusal, blame, buck, …) when detected")
    principle: str | None = None
    situation: str | None = Field(None, description="what the flagged sentence is about, for bank phrases")


class RewriteResult(Schema):
    lang: str
    original: str
    rewritten: str
    changed: bool
    changes: list[Change]
    flags: list[Flag]
