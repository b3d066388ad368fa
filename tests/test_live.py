"""End-to-end over real sockets: uvicorn on a free port, driven by the `websockets` client library."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from assist.config import HubSettings, Settings
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.live


@pytest.fixture
def server(shipped_db: Path, tmp_path: Path) -> Iterator[LiveServer]:
    shutil.copy(shipped_db, tmp_path / "assist.db")
    with live_server(Settings(_env_file=None, data_dir=tmp_path)) as live:  # type: ignore[call-arg]
        yield live


async def recv(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), 30))  # type: ignore[no-any-return]


async def until(ws: ClientConnection, kind: str, ref: str | None = None) -> list[dict[str, Any]]:
    seen = []
    while True:
        frame = await recv(ws)
        seen.append(frame)
        if frame["type"] == kind and (ref is None or frame.get("ref") == ref):
            return seen


async def send(ws: ClientConnection, **frame: Any) -> None:
    await ws.send(json.dumps(frame, ensure_ascii=False))


@pytest.mark.asyncio
async def test_live_feed_agent_draft_feedback(server: LiveServer) -> None:
    async with connect(server.ws) as agent, connect(server.ws) as feed:
        assert (await recv(agent))["type"] == "hello" and (await recv(feed))["type"] == "hello"
        await send(agent, type="subscribe", conversation_id="e2e", id="s")
        await until(agent, "subscribed", "s")
        await send(
            feed,
            type="message",
            conversation_id="e2e",
            role="customer",
            text="你们怎么回事！！订单号 2024112300123 一个星期了还没发货，再不处理我就投诉到12315",
        )
        frames = await until(agent, "suggestions")
        assert [f["type"] for f in frames] == ["message", "analysis", "suggestions"]
        assert frames[1]["analysis"]["emotion"]["label"] in ("anger", "frustration")
        item = frames[2]["items"][0]
        assert "{order_id}" not in item["text"]
        await send(agent, type="draft", conversation_id="e2e", text="我不知道，你必须等", seq=1)
        rewrite = (await until(agent, "rewrite"))[-1]
        assert rewrite["result"]["changed"] and "我不知道" not in rewrite["result"]["rewritten"]
        await send(agent, type="feedback", conversation_id="e2e", phrase_id=item["phrase_id"], action="used", id="f")
        await until(agent, "ack", "f")
    async with httpx.AsyncClient(base_url=server.http) as http:
        state = (await http.get("/api/conversations/e2e")).json()
        assert state["messages"][0]["role"] == "customer" and state["analysis"]["lang"] == "zh-Hans"


def small_window_socket(port: int) -> socket.socket:
    """A client socket with a 4 kB receive buffer, so a client that stops reading pushes back at once
    (loopback buffers here reach tens of MB otherwise)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


@pytest.mark.asyncio
async def test_live_slow_agent_loses_old_events_not_the_hub(tmp_path: Path) -> None:
    """A subscriber that stops reading: its outbox drops the oldest events; everyone else gets all of them."""
    big = "消息" * 5_000  # about 30 kB per message frame
    n = 300
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        seed_phrasebank=False,  # type: ignore[call-arg]
        hub=HubSettings(send_queue=16),
    )
    with live_server(settings) as server:
        await _flood(server, big, n)


async def _flood(server: LiveServer, big: str, n: int) -> None:
    async with (
        connect(server.ws, sock=small_window_socket(server.port), max_queue=1, compression=None) as slow,
        connect(server.ws, max_size=None) as fast,
        connect(server.ws) as feed,
    ):
        for ws in (slow, fast, feed):
            await recv(ws)
        for ws in (slow, fast):
            await send(ws, type="subscribe", conversation_id="flood", id="s")
            await until(ws, "subscribed", "s")

        async def flood() -> None:
            for i in range(n):
                await send(feed, type="message", conversation_id="flood", role="agent", text=f"{i} {big}", id=str(i))
                await until(feed, "ack", str(i))

        async def drain_fast() -> int:
            got = 0
            while got < n:
                frame = await recv(fast)
                got += frame["type"] == "message"
            return got

        got_fast, _ = await asyncio.wait_for(asyncio.gather(drain_fast(), flood()), 120)
        assert got_fast == n
        dropped = sum(c.outbox.dropped for c in server.hub.connections)
        assert dropped > 0
        await send(slow, type="ping", id="last")
        slow_messages = [f for f in await until(slow, "pong", "last") if f["type"] == "message"]
        assert len(slow_messages) < n  # old events were dropped...
        assert slow_messages[-1]["message"]["text"].startswith(f"{n - 1} ")  # ...and the newest kept


@pytest.mark.asyncio
async def test_live_client_gone_mid_send_does_not_disturb_others(server: LiveServer) -> None:
    async with connect(server.ws) as other, connect(server.ws) as feed:
        await recv(other)
        await recv(feed)
        gone = await connect(server.ws)
        await recv(gone)
        for ws in (gone, other):
            await send(ws, type="subscribe", conversation_id="gone", id="s")
            await until(ws, "subscribed", "s")
        await send(feed, type="message", conversation_id="gone", role="customer", text="where is my order??")
        gone.transport.abort()  # vanish without a close frame while events are on their way
        await until(other, "suggestions")
        await send(feed, type="message", conversation_id="gone", role="customer", text="hello? anyone?")
        assert [f["type"] for f in await until(other, "suggestions")] == ["message", "analysis", "suggestions"]
        for _ in range(50):
            if len(server.hub.connections) == 2:
                break
            await asyncio.sleep(0.1)
        assert len(server.hub.connections) == 2


@pytest.mark.asyncio
async def test_live_shutdown_finishes_work_and_closes_1001(server: LiveServer) -> None:
    async with connect(server.ws) as agent:
        await recv(agent)
        await send(agent, type="subscribe", conversation_id="bye", id="s")
        await until(agent, "subscribed", "s")
        await send(agent, type="message", conversation_id="bye", role="customer", text="退款什么时候到账？", id="m")
        await until(agent, "message")
        server.server.should_exit = True  # shutdown while the message is being processed
        seen = []
        with pytest.raises(ConnectionClosed) as info:
            while True:
                seen.append((await recv(agent))["type"])
        assert "suggestions" in seen and "ack" in seen
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001


@pytest.mark.asyncio
async def test_live_webhook_path_matches_the_feed(server: LiveServer) -> None:
    async with connect(server.ws) as agent, httpx.AsyncClient(base_url=server.http) as http:
        await recv(agent)
        await send(agent, type="subscribe", conversation_id="hook", id="s")
        await until(agent, "subscribed", "s")
        r = await http.post(
            "/api/conversations/hook/messages",
            json={"role": "customer", "text": "I want a refund, the blender arrived broken"},
        )
        assert r.status_code == 200
        body = r.json()
        assert body["analysis"]["lang"] == "en" and body["suggestions"]["items"]
        frames = await until(agent, "suggestions")
        assert frames[0]["message"]["message_id"] == body["message"]["message_id"]
