"""POST /suggest: ranked replies from the phrase bank for a customer message or a conversation."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from assist.api.analyze import AnalyzeIn
from assist.deps import PrincipalDep, SuggesterDep
from assist.schemas import SuggestResult

router = APIRouter(prefix="/suggest", tags=["suggest"])


class SuggestIn(AnalyzeIn):
    """`text` or `conversation` as for /analyze, plus how many replies and known placeholder values."""

    k: int = Field(5, ge=1, le=50)
    team: str | None = Field(None, description="leads may pick a team; agents always get their own")
    context: dict[str, str] = Field(
        default_factory=dict, description='placeholder values, e.g. {"customer_name": "王先生"}'
    )


@router.post("")
def create_suggestions(body: SuggestIn, suggester: SuggesterDep, principal: PrincipalDep) -> SuggestResult:
    """Analyse the latest customer message and suggest replies in its language and script."""
    team = body.team if principal.role == "lead" else principal.team
    turns = [t.model_dump() for t in body.conversation] if body.conversation is not None else None
    return suggester.suggest(text=body.text, conversation=turns, k=body.k, team=team, context=body.context)
