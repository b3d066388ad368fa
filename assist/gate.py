"""The request gate (issue 17, item 10): before a request body is read, check who sends it and how big it is.

An ASGI middleware in front of the API: a request that carries a body (POST, PUT, PATCH) under /api/ is answered
401 (no or unknown token, outside open access), 403 (open access from another site, assist.auth) or 413 (a
Content-Length above `max_request_bytes`) without reading a byte of it; a body without a Content-Length is
counted as it arrives and cut off with 413 at the limit. The routes check roles and their own limits as before."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assist.auth import OPEN_ACCESS, bearer_token, check_open_request, principal_for
from assist.errors import AssistError, PayloadTooLarge, error_body

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
GATE_PRINCIPAL = "gate_principal"  # request state: (the secret checked, its principal)


async def _answer(send: Send, exc: AssistError) -> None:
    body = json.dumps(error_body(exc.detail, exc.code, **exc.extra)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if exc.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.get("state") or {}
        settings, tokens = state.get("settings"), state.get("tokens")
        if settings is None or tokens is None:  # not started yet: nothing to check against
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit: int = settings.max_request_bytes
        try:
            length = headers.get("content-length")
            secret = bearer_token(headers.get("authorization"))
            if secret is None:
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                secret = (query.get("token") or [None])[0]
            principal = await to_thread.run_sync(principal_for, settings, tokens, secret)
            if principal is OPEN_ACCESS:
                check_open_request(settings, headers.get("host"), headers.get("origin"))
            # The route's PrincipalDep takes it from here instead of asking the database again (assist.deps).
            state[GATE_PRINCIPAL] = (secret, principal)
            if length is not None and (not length.isdigit() or int(length) > limit):
                raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
        except AssistError as exc:
            await _answer(send, exc)
            return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the body through, counting it; past the limit the app sees the client leave, and whatever it
        answers is replaced by 413 (FastAPI turns errors while reading a body into 400)."""
        seen = 0
        exceeded = False
        answered: bool | None = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if not exceeded or answered is None:  # None: the app answered before the limit was passed
                if message["type"] == "http.response.start":
                    answered = None
                await send(message)
            elif not answered:
                answered = True
                await _answer(send, PayloadTooLarge(f"request bodies are limited to {limit} bytes"))

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and answered is False:
            await _answer(send, PayloadTooLarge(f"request bodies are limited to {limit} bytes"))
