"""A live conversation as the hub gives it out: after a message is taken, and as a watcher sees it."""

from __future__ import annotations

from pydantic import Field

from assist.schemas._base import Schema, omitted_when_empty
from assist.schemas.analysis import Analysis
from assist.schemas.message import Message
from assist.schemas.suggestion import SuggestResult


class FeedResult(Schema):
    """A message taken: a customer's also has its analysis, and (asked over REST) the caller's suggestions."""

    conversation_id: str
    message: Message
    analysis: Analysis | None = omitted_when_empty(description="customer messages only")
    suggestions: SuggestResult | None = omitted_when_empty(description="customer messages, over REST only")


class ConversationState(Schema):
    """Recent messages, the latest analysis and the suggestions for the reader's team (null until any)."""

    messages: list[Message]
    analysis: Analysis | None
    suggestions: SuggestResult | None
    updated_at: float | None = Field(description="the time of the latest message")


class ConversationOut(ConversationState):
    conversation_id: str
