"""/conversations: feed a message over HTTP (the webhook path) and read a conversation's live state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assist.bounds import Seconds
from assist.deps import HubDep, PrincipalDep
from assist.errors import responses
from assist.protocol import CONVERSATION_ID
from assist.schemas import ConversationOut, FeedResult, Role
from assist.text import valid_json

router = APIRouter(prefix="/conversations", tags=["conversations"])

ConversationPath = Annotated[str, Path(pattern=CONVERSATION_ID, description="the helpdesk's conversation id")]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    text: str = Field(max_length=1_000_000)
    t: Seconds | None = Field(None, description="seconds; default: arrival time")
    message_id: str | None = Field(None, max_length=64)

    @field_validator("text", "message_id", mode="before")
    @classmethod
    def _valid_text(cls, value: object) -> object:
        return valid_json(value)  # a lone surrogate becomes U+FFFD, as on the websocket (assist/text.py)


@router.post("/{conversation_id}/messages", responses=responses(403, 429))
async def create_message(
    conversation_id: ConversationPath, body: MessageIn, hub: HubDep, principal: PrincipalDep
) -> FeedResult:
    """Add a message, as a `message` frame does; a customer message answers with its analysis and suggestions."""
    principal.require("integration", "lead")
    return await hub.feed(
        conversation_id, body.role, body.text, t=body.t, message_id=body.message_id, answer=True, by=principal
    )


@router.get("/{conversation_id}", responses=responses(403, 404))
async def read_conversation(conversation_id: ConversationPath, hub: HubDep, principal: PrincipalDep) -> ConversationOut:
    """The recent messages, latest analysis and suggestions of a conversation the hub holds."""
    state = await hub.state(conversation_id, principal)
    return ConversationOut(conversation_id=conversation_id, **dict(state))
