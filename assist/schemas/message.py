"""The chat turn: the one model of a message the code passes around (hub, frames, shared state, REST)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from assist.schemas._base import Schema

Role = Literal["customer", "agent"]


class Message(Schema):
    """A message as the hub holds it: its text cut to the hub's limit (`truncated` says so)."""

    message_id: str = Field(description="the sender's id, or `m<n>` (its number in the conversation)")
    role: Role
    text: str
    t: float = Field(description="seconds (epoch or since the conversation began); arrival time by default")
    truncated: bool = False
