"""Chatwoot webhook intake: `message_created` events mapped onto the conversation messages path."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel

from assist.auth import OPEN_ACCESS, bearer_token, check_open_request, principal_for
from assist.bounds import MAX_SECONDS
from assist.deps import HubDep, SettingsDep, TokensDep
from assist.errors import InvalidInput, responses
from assist.protocol import CONVERSATION_ID
from assist.schemas import Role
from assist.schemas._base import omitted_when_empty
from assist.text import valid_json

router = APIRouter(prefix="/integrations", tags=["integrations"])

ROLES: dict[str, Role] = {"incoming": "customer", "outgoing": "agent"}  # Chatwoot message_type -> our role


class ChatwootOut(BaseModel):
    """Whether the event was taken; `reason` when not, the conversation and message ids when it was."""

    accepted: bool
    reason: str | None = omitted_when_empty()
    conversation_id: str | None = omitted_when_empty()
    message_id: str | None = omitted_when_empty()


def _seconds(value: Any) -> float | None:
    """`created_at` as epoch seconds (a number or an ISO time); None (arrival time) when absent or unreadable;
    InvalidInput when a number that is not a time (infinite, NaN, negative, past the year 9999)."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError):
            return None
    if seconds is not None and not (math.isfinite(seconds) and 0 <= seconds <= MAX_SECONDS):
        raise InvalidInput("created_at is not a time: epoch seconds from 0 to 253402300799 are accepted")
    return seconds


@router.post("/chatwoot", responses=responses(401, 403, 422))
async def receive_chatwoot(
    request: Request,
    hub: HubDep,
    settings: SettingsDep,
    tokens: TokensDep,
    payload: Annotated[dict[str, Any], Body()],
    token: Annotated[str | None, Query(description="an integration token; Chatwoot webhooks send no headers")] = None,
) -> ChatwootOut:
    """Take a Chatwoot webhook: incoming messages are the customer's, outgoing the agent's; the rest is ignored."""
    secret = token or bearer_token(request.headers.get("authorization"))
    principal = await to_thread.run_sync(
        principal_for, settings, tokens, secret, "pass an integration token as ?token=… in the webhook URL"
    )
    if principal is OPEN_ACCESS:
        check_open_request(settings, request.headers.get("host"), request.headers.get("origin"))
    principal.require("integration", "lead")
    payload = valid_json(payload)  # lone surrogates become U+FFFD, as on the websocket (assist/text.py)
    if payload.get("event") != "message_created":
        return ChatwootOut(accepted=False, reason=f"event {payload.get('event')!r} is not handled")
    role = ROLES.get(str(payload.get("message_type")))
    conversation = payload.get("conversation") or {}
    content = payload.get("content")
    if role is None or payload.get("private"):
        return ChatwootOut(accepted=False, reason="only public incoming and outgoing messages are handled")
    if not isinstance(content, str) or not content.strip():
        return ChatwootOut(accepted=False, reason="the message has no text")
    if not isinstance(conversation, dict) or conversation.get("id") is None:
        return ChatwootOut(accepted=False, reason="the payload has no conversation.id")
    account_obj = payload.get("account")
    if account_obj is not None and not isinstance(account_obj, dict):
        raise InvalidInput("`account` must be an object with an `id`")
    account = (account_obj or {}).get("id")
    conversation_id = (
        f"chatwoot:{account}:{conversation['id']}" if account is not None else f"chatwoot:{conversation['id']}"
    )
    if not re.fullmatch(CONVERSATION_ID, conversation_id):
        raise InvalidInput("account.id and conversation.id must be numbers or short strings of letters and digits")
    message_id = f"cw-{payload['id']}" if payload.get("id") is not None else None
    result = await hub.feed(
        conversation_id, role, content, t=_seconds(payload.get("created_at")), message_id=message_id, by=principal
    )
    return ChatwootOut(accepted=True, conversation_id=conversation_id, message_id=result.message.message_id)
