"""Websocket protocol v1 (docs/protocol.md): client frames as pydantic models, decoding with clear errors."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

PROTOCOL = 1
CONVERSATION_ID = r"^[A-Za-z0-9_.:\-]{1,128}$"

ConversationId = Annotated[str, StringConstraints(pattern=CONVERSATION_ID)]
Role = Literal["customer", "agent"]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer clients may send fields this server does not know
    id: str | None = Field(None, max_length=64, description="echoed back as `ref` in replies and errors")


class HelloIn(_Frame):
    type: Literal["hello"]
    protocol: int


class AuthIn(_Frame):
    type: Literal["auth"]
    token: str = Field(max_length=256)


class PingIn(_Frame):
    type: Literal["ping"]


class MessageIn(_Frame):
    type: Literal["message"]
    conversation_id: ConversationId
    role: Role
    text: str
    t: float | None = Field(None, description="seconds (epoch or since the conversation began); default arrival")
    message_id: str | None = Field(None, max_length=64)


class SubscribeIn(_Frame):
    type: Literal["subscribe"]
    conversation_id: ConversationId


class UnsubscribeIn(_Frame):
    type: Literal["unsubscribe"]
    conversation_id: ConversationId


class DraftIn(_Frame):
    type: Literal["draft"]
    conversation_id: ConversationId
    text: str
    seq: int | None = None


class FeedbackIn(_Frame):
    type: Literal["feedback"]
    conversation_id: ConversationId
    phrase_id: int
    action: Literal["used", "dismissed", "edited"]


ClientFrame = Annotated[
    HelloIn | AuthIn | PingIn | MessageIn | SubscribeIn | UnsubscribeIn | DraftIn | FeedbackIn,
    Field(discriminator="type"),
]
CLIENT_TYPES = ("hello", "auth", "ping", "message", "subscribe", "unsubscribe", "draft", "feedback")
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ClientFrame)


class FrameError(Exception):
    """A frame that cannot be handled; the socket stays open and gets an `error` frame."""

    def __init__(self, code: str, detail: str, ref: str | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.ref = code, detail, ref


def error(code: str, detail: str, ref: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if ref is not None:
        frame["ref"] = ref
    return frame


def decode(text: str, max_bytes: int) -> Any:
    """A client frame from a text frame, or FrameError naming what is wrong (never the frame's content)."""
    if len(text) * 4 > max_bytes and len(text.encode("utf-8")) > max_bytes:
        raise FrameError("frame_too_large", f"frames are limited to {max_bytes} bytes")
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FrameError("invalid_json", f"not JSON: {getattr(exc, 'msg', 'too deeply nested')}") from exc
    if not isinstance(raw, dict):
        raise FrameError("invalid_json", "a frame is a JSON object with a `type`")
    ref = raw.get("id") if isinstance(raw.get("id"), str) and len(raw["id"]) <= 64 else None
    if raw.get("type") not in CLIENT_TYPES:
        raise FrameError("unknown_type", f"unknown frame type; expected one of {', '.join(CLIENT_TYPES)}", ref)
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'frame'}: {e['msg']}" for e in exc.errors()
        )
        raise FrameError("invalid_frame", fields, ref) from exc
