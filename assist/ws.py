"""The /ws endpoint: one connection's receive loop, its outbox writer, and what each frame does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from anyio import to_thread
from fastapi import APIRouter, WebSocket
from starlette import status
from starlette.websockets import WebSocketDisconnect, WebSocketState

from assist import __version__
from assist.auth import OPEN_ACCESS, Principal, TokenStore, bearer_token, open_access, open_refusal, principal_for
from assist.config import Settings
from assist.errors import AssistError, Unauthorized
from assist.hub import Hub, Outbox
from assist.protocol import (
    PROTOCOL,
    AckOut,
    AuthenticatedOut,
    AuthIn,
    DraftIn,
    FeedbackIn,
    FrameError,
    HelloIn,
    HelloOut,
    Limits,
    MessageIn,
    PingIn,
    PongOut,
    RewriteOut,
    ServerFrame,
    SubscribedOut,
    SubscribeIn,
    UnsubscribeIn,
    decode,
    error,
)

logger = logging.getLogger(__name__)
router = APIRouter()

FEEDERS = ("integration", "lead")
AGENTS = ("agent", "lead")


class Connection:
    """One websocket: who it is, what it watches, its bounded outbox and the drafts it is rewriting."""

    def __init__(self, websocket: WebSocket, hub: Hub, settings: Settings) -> None:
        self.websocket = websocket
        self.hub = hub
        self.settings = settings
        self.session = secrets.token_hex(8)
        self.principal: Principal | None = None
        self.outbox = Outbox(settings.hub.send_queue)
        self.close_code: int | None = None
        self._writer: asyncio.Task[None] | None = None
        self._done = asyncio.Event()
        self._drafts: dict[str, tuple[int, str]] = {}  # conversation -> latest (seq, text) not yet rewritten
        self._drafting: dict[str, asyncio.Task[None]] = {}
        self._sent_seq: dict[str, int] = {}
        self._auto_seq = 0

    @property
    def team(self) -> str | None:
        return self.principal.team if self.principal else None

    def send(self, frame: ServerFrame) -> None:
        self.outbox.put(frame)

    def close(self, code: int) -> None:
        """Close after the frames already queued."""
        if self.close_code is None:
            self.close_code = code
            self.outbox.put(None)

    async def closed(self) -> None:
        await self._done.wait()

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        try:
            while True:
                frame = await self.outbox.get()
                if frame is None:
                    if self.websocket.application_state == WebSocketState.CONNECTED:
                        await self.websocket.close(self.close_code or status.WS_1000_NORMAL_CLOSURE)
                    return
                await self.websocket.send_text(frame.model_dump_json())
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client is gone mid-send; the receive loop ends too
        finally:
            self._done.set()

    async def stop(self) -> None:
        for task in self._drafting.values():
            task.cancel()
        if self._writer is not None and not self._writer.done():
            self.outbox.put(None)
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(self._writer, 5)

    # ---- frames ---------------------------------------------------------------------------------

    def require(self, roles: tuple[str, ...], ref: str | None) -> Principal:
        if self.principal is None:
            raise FrameError("unauthorized", 'authenticate first: send {"type": "auth", "token": ...}', ref)
        if self.principal.role not in roles:
            raise FrameError(
                "forbidden", f"this needs the role {' or '.join(roles)}; the connection has {self.principal.role}", ref
            )
        return self.principal

    async def handle(self, text: str) -> None:
        frame = decode(text, self.settings.hub.max_frame_bytes)
        ref = frame.id
        reply: ServerFrame
        match frame:
            case PingIn():
                reply = PongOut(ref=ref)
            case HelloIn():
                if frame.protocol != PROTOCOL:
                    self.send(error("unsupported_protocol", f"this server speaks protocol {PROTOCOL}", ref))
                    self.close(status.WS_1002_PROTOCOL_ERROR)
                    return
                reply = HelloOut(version=__version__, ref=ref)
            case AuthIn():
                await self.authenticate(frame.token, ref)
                return
            case MessageIn():
                self.require(FEEDERS, ref)
                result = await self.hub.feed(
                    frame.conversation_id, frame.role, frame.text, t=frame.t, message_id=frame.message_id
                )
                reply = AckOut(message_id=result.message.message_id, conversation_id=frame.conversation_id, ref=ref)
            case SubscribeIn():
                self.require(AGENTS, ref)
                state = await self.hub.subscribe(self, frame.conversation_id)
                reply = SubscribedOut(conversation_id=frame.conversation_id, state=state, ref=ref)
            case UnsubscribeIn():
                self.require(AGENTS, ref)
                self.hub.unsubscribe(self, frame.conversation_id)
                reply = AckOut(conversation_id=frame.conversation_id, ref=ref)
            case DraftIn():
                self.require(AGENTS, ref)
                self.draft(frame)
                return
            case FeedbackIn():
                self.require(AGENTS, ref)
                await self.hub.feedback(frame.conversation_id, frame.phrase_id, frame.action)
                reply = AckOut(ref=ref)
            case _:  # pragma: no cover - decode() only returns the frames above
                raise FrameError("unknown_type", "unknown frame type", ref)
        self.send(reply)

    async def authenticate(self, token: str, ref: str | None) -> None:
        tokens: TokenStore = self.websocket.state.tokens
        try:
            self.principal = await to_thread.run_sync(principal_for, self.settings, tokens, token)
        except Unauthorized as exc:
            self.send(error("unauthorized", exc.detail, ref))
            self.close(status.WS_1008_POLICY_VIOLATION)
            return
        self.send(
            AuthenticatedOut(role=self.principal.role, team=self.principal.team, name=self.principal.name, ref=ref)
        )

    def draft(self, frame: DraftIn) -> None:
        """Latest wins: while a rewrite runs, newer drafts replace each other; older results are not sent."""
        cid = frame.conversation_id
        self._auto_seq += 1
        seq = frame.seq if frame.seq is not None else self._auto_seq
        self._drafts[cid] = (seq, frame.text)
        task = self._drafting.get(cid)
        if task is None or task.done():
            self._drafting[cid] = asyncio.create_task(self._rewrite_loop(cid))

    async def _rewrite_loop(self, cid: str) -> None:
        while cid in self._drafts:
            seq, text = self._drafts.pop(cid)
            try:
                result = await self.hub.rewrite(text)
            except Exception:
                logger.exception("rewrite failed")
                self.send(error("internal_error", "the rewrite failed"))
                continue
            if cid in self._drafts and self._drafts[cid][0] > seq:
                continue  # a newer draft arrived: this result is stale
            if seq < self._sent_seq.get(cid, -1):
                continue
            self._sent_seq[cid] = seq
            self.send(RewriteOut(conversation_id=cid, seq=seq, result=result))


@router.websocket("/ws")
async def ws_endpoint(websocket: WebSocket) -> None:
    """Websocket protocol v1 (docs/protocol.md)."""
    hub: Hub = websocket.state.hub
    settings: Settings = websocket.state.settings
    tokens: TokenStore = websocket.state.tokens
    await websocket.accept()
    conn = Connection(websocket, hub, settings)
    hub.connections.add(conn)
    conn.start()
    try:
        is_open = await to_thread.run_sync(open_access, settings, tokens)
        refused = open_refusal(settings, websocket.headers) if is_open else None  # issue 17 item 12
        header = bearer_token(websocket.headers.get("authorization"))
        conn.send(
            HelloOut(
                version=__version__,
                auth="open" if is_open and header is None and refused is None else "required",
                session=conn.session,
                limits=Limits(max_frame_bytes=settings.hub.max_frame_bytes, max_text_chars=settings.hub.max_text_chars),
            )
        )
        if header is not None:
            await conn.authenticate(header, None)
        elif is_open and refused is None:
            conn.principal = OPEN_ACCESS
        elif refused is not None:  # open access, but from another site or to a non-local Host (issue 17 item 12)
            conn.send(error("forbidden", refused))
            conn.close(status.WS_1008_POLICY_VIOLATION)
        if hub.closing:
            conn.close(status.WS_1001_GOING_AWAY)
        while conn.close_code is None:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is None:
                conn.send(error("unsupported_data", "binary frames are not part of the protocol; send JSON text"))
                continue
            try:
                await conn.handle(message["text"])
            except FrameError as exc:
                conn.send(error(exc.code, exc.detail, exc.ref))
            except AssistError as exc:
                conn.send(error(exc.code, exc.detail))
            except Exception:
                logger.exception("ws: a frame failed")
                conn.send(error("internal_error", "the server failed to handle this frame"))
    except WebSocketDisconnect:
        pass
    finally:
        hub.drop(conn)
        await conn.stop()
