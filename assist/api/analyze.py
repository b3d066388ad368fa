"""POST /analyze: emotion, cues, customer profile and hints for one message or a conversation."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assist.bounds import Seconds
from assist.deps import AnalyzerDep, PrincipalDep
from assist.schemas import Analysis, Role

router = APIRouter(prefix="/analyze", tags=["analyze"])

MAX_TURNS = 500


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    text: str = Field(max_length=200_000)
    t: Seconds | None = None


class AnalyzeIn(BaseModel):
    """Either `text` (one customer message) or `conversation` (turns in order), not both."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=200_000)
    conversation: list[TurnIn] | None = Field(None, max_length=MAX_TURNS)

    @model_validator(mode="after")
    def _one_of(self) -> AnalyzeIn:
        if (self.text is None) == (self.conversation is None):
            raise ValueError("send exactly one of `text` or `conversation`")
        return self


@router.post("")
def create_analysis(body: AnalyzeIn, analyzer: AnalyzerDep, _: PrincipalDep) -> Analysis:
    """Analyze one customer message, or a conversation whose latest customer message is read in context."""
    if body.conversation is not None:
        return analyzer.conversation_analysis([t.model_dump() for t in body.conversation])
    return analyzer.message_analysis(body.text or "")
