"""Websocket protocol v1 (docs/protocol.md): client and server frames as pydantic models, decoding with clear
errors, and the envelope that carries a server frame to a conversation's watchers."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from assist.bounds import RowId, Seconds
from assist.schemas import (
    Analysis,
    ConversationState,
    Message,
    RewriteResult,
    Role,
    Situation,
    Suggestion,
    SuggestResult,
)
from assist.schemas._base import omitted_when_empty
from assist.schemas.guard import GuardHit
from assist.text import valid_json

PROTOCOL = 1
CONVERSATION_ID = r"^[A-Za-z0-9_.:\-]{1,128}$"

ConversationId = Annotated[str, StringConstraints(pattern=CONVERSATION_ID)]


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
    t: Seconds | None = Field(None, description="seconds (epoch or since the conversation began); default arrival")
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
    seq: int | None = Field(None, ge=0, le=2**53 - 1)


class FeedbackIn(_Frame):
    type: Literal["feedback"]
    conversation_id: ConversationId
    phrase_id: RowId
    action: Literal["used", "dismissed", "edited"]
    message_id: str | None = Field(
        None, max_length=64, description="the customer message the suggestion answered; default: the latest"
    )


ClientFrame = Annotated[
    HelloIn | AuthIn | PingIn | MessageIn | SubscribeIn | UnsubscribeIn | DraftIn | FeedbackIn,
    Field(discriminator="type"),
]
CLIENT_TYPES = ("hello", "auth", "ping", "message", "subscribe", "unsubscribe", "draft", "feedback")
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ClientFrame)


# ---- server frames ----------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str | None = omitted_when_empty(description="the `id` of the client frame this answers")


class Limits(BaseModel):
    max_frame_bytes: int
    max_text_chars: int
    max_pending: int | None = omitted_when_empty(description="frames a client may have sent and not had answered")


class HelloOut(_Out):
    """On connect (with `auth`, `session`, `limits`) and in reply to `hello` (protocol and version only)."""

    type: Literal["hello"] = "hello"
    protocol: int = PROTOCOL
    version: str
    auth: Literal["open", "required"] | None = omitted_when_empty()
    session: str | None = omitted_when_empty()
    limits: Limits | None = omitted_when_empty()


class AuthenticatedOut(_Out):
    type: Literal["authenticated"] = "authenticated"
    role: str
    team: str | None
    name: str


class PongOut(_Out):
    type: Literal["pong"] = "pong"


class AckOut(_Out):
    """`message` (with its message_id), `unsubscribe` (conversation_id) and `feedback` (nothing more)."""

    type: Literal["ack"] = "ack"
    message_id: str | None = omitted_when_empty()
    conversation_id: str | None = omitted_when_empty()


class SubscribedOut(_Out):
    type: Literal["subscribed"] = "subscribed"
    conversation_id: str
    state: ConversationState


class MessageOut(_Out):
    type: Literal["message"] = "message"
    conversation_id: str
    message: Message


class AnalysisOut(_Out):
    type: Literal["analysis"] = "analysis"
    conversation_id: str
    message_id: str
    analysis: Analysis


class SuggestionsOut(_Out):
    type: Literal["suggestions"] = "suggestions"
    conversation_id: str
    message_id: str
    lang: str
    situations: list[Situation]
    items: list[Suggestion]

    @classmethod
    def of(cls, conversation_id: str, message_id: str, result: SuggestResult) -> SuggestionsOut:
        return cls(
            conversation_id=conversation_id,
            message_id=message_id,
            lang=result.lang,
            situations=result.situations,
            items=result.items,
        )


class RewriteOut(_Out):
    type: Literal["rewrite"] = "rewrite"
    conversation_id: str
    seq: int
    result: RewriteResult
    allowed: bool = Field(True, description="false when a `block` guard rule hits: the send should be stopped")
    hits: list[GuardHit] = Field(default_factory=list, description="pre-send guard hits, as POST /api/check")


class ErrorOut(_Out):
    type: Literal["error"] = "error"
    code: str
    detail: str
    retry_after: float | None = omitted_when_empty(description="seconds; send the frame again after this (`busy`)")


ServerFrame = Annotated[
    HelloOut
    | AuthenticatedOut
    | PongOut
    | AckOut
    | SubscribedOut
    | MessageOut
    | AnalysisOut
    | SuggestionsOut
    | RewriteOut
    | ErrorOut,
    Field(discriminator="type"),
]
SERVER_TYPES = (
    "hello",
    "authenticated",
    "pong",
    "ack",
    "subscribed",
    "message",
    "analysis",
    "suggestions",
    "rewrite",
    "error",
)
SERVER_FRAMES: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)


class Envelope(BaseModel):
    """A server frame on its way to a conversation's watchers, and who gets it: everyone (`team` unset), or
    the agents of one team (None: agents without a team). Routing stays beside the frame, never in it."""

    conversation_id: str
    frame: ServerFrame
    everyone: bool = True
    team: str | None = None
    owner: str | None = None  # the conversation's team (assist.auth.may_see)

    def reaches(self, team: str | None) -> bool:
        return self.everyone or self.team == team


class FrameError(Exception):
    """A frame that cannot be handled; the socket stays open and gets an `error` frame."""

    def __init__(self, code: str, detail: str, ref: str | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.ref = code, detail, ref


def error(code: str, detail: str, ref: str | None = None, retry_after: float | None = None) -> ErrorOut:
    return ErrorOut(code=code, detail=detail, ref=ref, retry_after=retry_after)


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
    raw = valid_json(raw)  # lone surrogates become U+FFFD here, before anything reads the frame (assist/text.py)
    ref = raw.get("id") if isinstance(raw.get("id"), str) and len(raw["id"]) <= 64 else None
    if raw.get("type") not in CLIENT_TYPES:
        raise FrameError("unknown_type", f"unknown frame type; expected one of {', '.join(CLIENT_TYPES)}", ref)
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'frame'}: {e['msg']}" for e in exc.errors())
        raise FrameError("invalid_frame", fields, ref) from exc
