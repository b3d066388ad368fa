"""POST /rewrite: an agent's draft with negative phrasing rewritten, every change explained."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from assist.deps import PrincipalDep, RewriterDep

router = APIRouter(prefix="/rewrite", tags=["rewrite"])

MAX_DRAFT_CHARS = 200_000  # beyond the engine's own limit, which answers with an `engine.too_long` flag


class RewriteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_DRAFT_CHARS, description="the draft as the agent typed it")
    lang: Literal["auto", "zh-Hans", "zh-Hant", "en"] = "auto"


class ChangeOut(BaseModel):
    start: int = Field(description="offset into `original`, in Unicode code points")
    end: int
    before: str
    after: str
    rule: str
    why: str


class FlagOut(BaseModel):
    start: int
    end: int
    text: str
    rule: str
    why: str
    family: str | None = Field(None, description="negative family (refusal, blame, buck, …) when detected")
    principle: str | None = None
    situation: str | None = Field(None, description="what the flagged sentence is about, for bank phrases")


class RewriteOut(BaseModel):
    lang: str
    original: str
    rewritten: str
    changed: bool
    changes: list[ChangeOut]
    flags: list[FlagOut]


@router.post("", response_model=RewriteOut)
def create_rewrite(body: RewriteIn, rewriter: RewriterDep, _: PrincipalDep) -> dict[str, Any]:
    """Rewrite a draft from negative to positive phrasing; `changes` and `flags` point into the original."""
    return rewriter.rewrite(body.text, body.lang).as_dict()
