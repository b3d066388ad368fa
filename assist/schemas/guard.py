"""The pre-send check of a draft: guard hits and the rewrite (POST /api/check, the websocket `rewrite` frame)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from assist.schemas._base import Schema
from assist.schemas.rewrite import RewriteResult


class GuardHit(Schema):
    kind: Literal["forbidden", "must_say"]
    category: str = Field(description="the rule's category (rude, buck, greeting, closing, disclosure, ...)")
    severity: Literal["warn", "block"]
    start: int = Field(description="offset into the draft, in Unicode code points (0 with end 0: the whole draft)")
    end: int
    text: str = Field(description="the draft's text at start:end (forbidden: what matched; closing: the trigger)")
    why: str
    rule: str = Field(description="the rule's key")
    phrases: list[str] = Field(default_factory=list, description="must_say: what would satisfy the check")


class CheckResult(Schema):
    allowed: bool = Field(description="false when a `block` hit stops the send")
    hits: list[GuardHit]
    rewrite: RewriteResult
