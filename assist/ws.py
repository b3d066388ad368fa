"""The /ws endpoint: one connection's receive loop, its outbox writer, and what each frame does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, WebSocket
from starlette import status
from starlette.websockets import WebSocketDisconnect, WebSocketState

from assist import __version__
from assist.auth import OPEN_ACCESS, Principal, TokenStore, bearer_token, open_access, open_refusal, principal_for
from assist.config import Settings
from assist.errors import AssistError, Unauthorized
from assist.guard.service import check_draft
from assist.hub import Hub, Outbox
from assist.protocol import (
    PROTOCOL,
    AckOut,
    AuthenticatedOut,
    AuthIn,
    DraftIn,
    ErrorOut,
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
    """One websocket: who it is, what it watches, its bounded outbox and the drafts it is rewriting.

    Three tasks: the reader takes every frame off the socket as it comes (so the socket's keepalive pings are
    answered however much work is queued) and queues it, or refuses it with `busy` when `max_pending` frames
    wait; the worker handles the queued frames one at a time, in order; the writer sends the outbox."""

    def __init__(self, websocket: WebSocket, hub: Hub, settings: Settings) -> None:
        self.websocket = websocket
        self.hub = hub
        self.settings = settings
        self.session = secrets.token_hex(8)
        self.principal: Principal | None = None
        self.outbox = Outbox(settings.hub.send_queue, settings.hub.send_queue_max)
        self.close_code: int | None = None
        self._writer: asyncio.Task[None] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._done = asyncio.Event()
        self._pending: deque[tuple[Any, int]] = deque()  # (a decoded frame or a ready error reply, its size)
        self._pending_ready = asyncio.Event()
        self._unanswered = 0  # queued frames plus the one being handled
        self._unanswered_bytes = 0
        self._seconds_per_frame = 0.05  # moving average of the handling time, for `retry_after`
        self._stopping = False
        self._drafts: dict[str, tuple[int, str]] = {}  # conversation -> latest (seq, text) not yet rewritten
        self._drafting: dict[str, asyncio.Task[None]] = {}
        self._sent_seq: dict[str, int] = {}
        self._auto_seq = 0

    @property
    def team(self) -> str | None:
        return self.principal.team if self.principal else None

    @property
    def role(self) -> str:
        return self.principal.role if self.principal else "none"

    @property
    def key(self) -> str:
        return self.principal.key if self.principal else f"session:{self.session}"

    def send(self, frame: ServerFrame) -> None:
        self.outbox.put(frame)
        if self.outbox.overflowed:
            self.abort(status.WS_1013_TRY_AGAIN_LATER)

    def close(self, code: int) -> None:
        """Close after the frames already queued."""
        if self.close_code is None:
            self.close_code = code
            self.outbox.put(None)

    def abort(self, code: int) -> None:
        """Close now, dropping what is queued: the writer may be stuck on a client that reads nothing."""
        if self._closing is not None:
            return
        self.close_code = code
        if self._writer is not None:
            self._writer.cancel()
        self._closing = asyncio.get_running_loop().create_task(self._close_now(code))

    async def _close_now(self, code: int) -> None:
        if self._writer is not None:
            with contextlib.suppress(BaseException):
                await self._writer
        with contextlib.suppress(Exception):
            await self.websocket.close(code)  # after what the client has not read yet, once it reads again

    async def closed(self) -> None:
        await self._done.wait()

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write())
        self._worker = asyncio.create_task(self._work())

    def require_auth_within(self, seconds: float) -> None:
        """Close with 1008 unless the connection is authenticated `seconds` from now."""

        async def deadline() -> None:
            await asyncio.sleep(seconds)
            if self.principal is None and self.close_code is None:
                self.send(error("unauthorized", f"not authenticated within {seconds:g} s; closing"))
                self.close(status.WS_1008_POLICY_VIOLATION)

        self._timer = asyncio.create_task(deadline())

    @staticmethod
    def encode(frame: ServerFrame) -> str:
        return frame.model_dump_json()

    async def _write(self) -> None:
        kind = "?"
        try:
            while True:
                frame = await self.outbox.get()
                if frame is None:
                    if not self.outbox.overflowed and self.websocket.application_state == WebSocketState.CONNECTED:
                        await self.websocket.close(self.close_code or status.WS_1000_NORMAL_CLOSURE)
                    return
                kind = frame.type
                await self.websocket.send_text(self.encode(frame))
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client is gone mid-send; the receive loop ends too
        except Exception as exc:  # a frame that cannot be sent: never leave the socket open but silent
            logger.error("ws: a %s frame could not be sent (%s); closing with 1011", kind, type(exc).__name__)
            self.close_code = status.WS_1011_INTERNAL_ERROR
            with contextlib.suppress(Exception):
                await self.websocket.close(status.WS_1011_INTERNAL_ERROR)
        finally:
            self._done.set()

    async def run(self) -> None:
        """Read until the client goes, or this side closes the socket (the writer ends)."""
        reading = asyncio.create_task(self._read())
        waiting: set[asyncio.Task[None]] = {reading} | ({self._writer} if self._writer else set())
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not reading.done():
            reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await reading

    async def _read(self) -> None:
        limit = self.settings.hub.max_frame_bytes
        while self.close_code is None:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                self._queue(error("unsupported_data", "binary frames are not part of the protocol; send JSON text"))
                continue
            try:
                frame = decode(text, limit)
            except FrameError as exc:
                self._queue(error(exc.code, exc.detail, exc.ref))
                continue
            self._queue(frame, len(text))

    def _queue(self, item: Any, size: int = 0) -> None:
        """Queue a frame for the worker, or refuse it with `busy` (an error reply goes out at once then)."""
        hub = self.settings.hub
        if self._unanswered >= hub.max_pending or (
            self._unanswered and self._unanswered_bytes + size > hub.max_pending_bytes
        ):
            if isinstance(item, ErrorOut):
                self.send(item)
                return
            wait = round(max(0.05, self._seconds_per_frame * self._unanswered), 2)
            detail = f"{self._unanswered} frames of this connection are waiting; send this one again later"
            self.send(error("busy", detail, item.id, retry_after=wait))
            return
        self._unanswered += 1
        self._unanswered_bytes += size
        self._pending.append((item, size))
        self._pending_ready.set()

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            if not self._pending:
                self._pending_ready.clear()
                await self._pending_ready.wait()
                continue
            item, size = self._pending.popleft()
            started = loop.time()
            try:
                if self.close_code is None:
                    await self._answer(item)
            finally:
                self._unanswered -= 1
                self._unanswered_bytes -= size
                self._seconds_per_frame = 0.9 * self._seconds_per_frame + 0.1 * (loop.time() - started)

    async def _answer(self, item: Any) -> None:
        if isinstance(item, ErrorOut):
            self.send(item)
            return
        try:
            await self.handle(item)
        except FrameError as exc:
            self.send(error(exc.code, exc.detail, exc.ref))
        except AssistError as exc:
            self.send(error(exc.code, exc.detail, item.id))
        except Exception:
            logger.exception("ws: a frame failed")
            self.send(error("internal_error", "the server failed to handle this frame", item.id))

    async def stop(self) -> None:
        """The connection is over: the frame being handled finishes, queued ones are not handled."""
        self._stopping = True
        self._pending_ready.set()
        for task in self._drafting.values():
            task.cancel()
        if self._timer is not None:
            self._timer.cancel()
        if self._writer is not None and not self._writer.done():
            self.outbox.put(None)
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(self._writer, 5)
        for left in (self._worker, self._closing):
            if left is not None:
                with contextlib.suppress(asyncio.TimeoutError, Exception):
                    await asyncio.wait_for(asyncio.shield(left), 30)

    # ---- frames ---------------------------------------------------------------------------------

    def require(self, roles: tuple[str, ...], ref: str | None) -> Principal:
        if self.principal is None:
            raise FrameError("unauthorized", 'authenticate first: send {"type": "auth", "token": ...}', ref)
        if self.principal.role not in roles:
            raise FrameError(
                "forbidden", f"this needs the role {' or '.join(roles)}; the connection has {self.principal.role}", ref
            )
        return self.principal

    async def handle(self, frame: Any) -> None:
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
                by = self.require(FEEDERS, ref)
                result = await self.hub.feed(
                    frame.conversation_id, frame.role, frame.text, t=frame.t, message_id=frame.message_id, by=by
                )
                reply = AckOut(message_id=result.message.message_id, conversation_id=frame.conversation_id, ref=ref)
            case SubscribeIn():
                viewer = self.require(AGENTS, ref)
                state = await self.hub.subscribe(self, frame.conversation_id, viewer)
                reply = SubscribedOut(conversation_id=frame.conversation_id, state=state, ref=ref)
            case UnsubscribeIn():
                self.require(AGENTS, ref)
                await self.hub.unsubscribe(self, frame.conversation_id)
                reply = AckOut(conversation_id=frame.conversation_id, ref=ref)
            case DraftIn():
                self.require(AGENTS, ref)
                self.draft(frame)
                return
            case FeedbackIn():
                viewer = self.require(AGENTS, ref)
                await self.hub.feedback(
                    frame.conversation_id, frame.phrase_id, frame.action, viewer, message_id=frame.message_id
                )
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
        except AssistError as exc:  # the store is down: the socket stays open, `auth` may be sent again
            self.send(error(exc.code, exc.detail, ref))
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
                result, allowed, hits = await check_draft(
                    getattr(self.websocket.state, "guard", None), self.hub, cid, text, self.principal
                )
            except Exception:
                logger.exception("rewrite failed")
                self.send(error("internal_error", "the rewrite failed"))
                continue
            if cid in self._drafts and self._drafts[cid][0] > seq:
                continue  # a newer draft arrived: this result is stale
            if seq < self._sent_seq.get(cid, -1):
                continue
            self._sent_seq[cid] = seq
            self.send(RewriteOut(conversation_id=cid, seq=seq, result=result, allowed=allowed, hits=hits))


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
        try:
            is_open = await to_thread.run_sync(open_access, settings, tokens)
        except AssistError:  # the store is down: say hello all the same; `auth` answers store_unavailable meanwhile
            is_open = False
        refused = open_refusal(settings, websocket.headers) if is_open else None  # issue 17 item 12
        header = bearer_token(websocket.headers.get("authorization"))
        hub_settings = settings.hub
        conn.send(
            HelloOut(
                version=__version__,
                auth="open" if is_open and header is None and refused is None else "required",
                session=conn.session,
                limits=Limits(
                    max_frame_bytes=hub_settings.max_frame_bytes,
                    max_text_chars=hub_settings.max_text_chars,
                    max_pending=hub_settings.max_pending,
                ),
            )
        )
        if header is not None:
            await conn.authenticate(header, None)
        elif is_open and refused is None:
            conn.principal = OPEN_ACCESS
        elif refused is not None:  # open access, but from another site or to a non-local Host (issue 17 item 12)
            conn.send(error("forbidden", refused))
            conn.close(status.WS_1008_POLICY_VIOLATION)
        if conn.principal is None and conn.close_code is None:
            conn.require_auth_within(hub_settings.auth_timeout_seconds)
        if hub.closing:
            conn.close(status.WS_1001_GOING_AWAY)
        await conn.run()
    except WebSocketDisconnect:
        pass
    finally:
        await hub.drop(conn)
        await conn.stop()
