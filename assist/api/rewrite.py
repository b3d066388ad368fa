"""POST /rewrite: an agent's draft with negative phrasing rewritten, every change explained."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from assist.bank.schema import Lang
from assist.deps import PrincipalDep, RewriterDep
from assist.schemas import RewriteResult

router = APIRouter(prefix="/rewrite", tags=["rewrite"])

MAX_DRAFT_CHARS = 200_000  # beyond the engine's own limit, which answers with an `engine.too_long` flag


class RewriteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_DRAFT_CHARS, description="the draft as the agent typed it")
    lang: Literal["auto"] | Lang = Field("auto", description="auto (detect) or a registered language code")


@router.post("")
def create_rewrite(body: RewriteIn, rewriter: RewriterDep, principal: PrincipalDep, request: Request) -> RewriteResult:
    """Rewrite a draft from negative to positive phrasing; `changes` and `flags` point into the original, and
    flags carry 2-3 bank phrases for the flagged sentence's situation."""
    guard = getattr(request.state, "guard", None)  # assist.guard.service.GuardService: adds bank phrases to flags
    if guard is not None:
        return RewriteResult.model_validate(guard.rewrite(body.text, body.lang, principal.team))
    return RewriteResult.model_validate(rewriter.rewrite(body.text, body.lang).as_dict())
