"""Issue 17 item 8 over a real socket: a feeder that bursts messages gets every one acknowledged or refused with a
retryable `busy`, the socket stays up (its keepalive pings are answered), and none is silently lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from assist.config import HubSettings, Settings
from tests.fakes import HashedEncoder
from tests.live import live_server
from tests.test_live import small_window_socket

pytestmark = pytest.mark.live

N = 3000
CONVERSATIONS = [f"burst-{k}" for k in range(10)]


def message(i: int) -> str:
    frame = {"type": "message", "conversation_id": CONVERSATIONS[i % 10], "role": "customer", "id": str(i)}
    # `pad` is ignored by the server (frames ignore unknown fields): it makes the burst several of the server's
    # 256 kB socket reads, each more work than the client's keepalive waits for, as 10,000 short messages do
    return json.dumps(frame | {"text": f"where is my order number {i}?? it has been a week", "pad": "x" * 200})


@pytest.mark.asyncio
async def test_live_burst_is_acked_or_refused_busy_never_lost(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, seed_phrasebank=False, hub=HubSettings(max_pending=32))  # type: ignore[call-arg]
    with live_server(settings, encoder=HashedEncoder()) as server:
        # A client keepalive much shorter than the work a burst queues: a server that stops reading while it
        # works leaves the client's pings unanswered behind the burst, and the client gives up with 1011.
        async with connect(server.ws, ping_interval=0.5, ping_timeout=2, max_queue=None) as feed:
            hello = json.loads(await feed.recv())
            window = hello["limits"]["max_pending"]
            acked, busy = await _burst_then_retry(feed, window)
        assert len(acked) == N and busy > 0
        held = server.hub.registry.held
        assert sum(held[c].seq for c in CONVERSATIONS) == N  # every acknowledged message was processed, once


async def _burst_then_retry(feed: ClientConnection, window: int) -> tuple[dict[str, str], int]:
    """Send all N at once, then send the refused ones again keeping at most `window` unanswered."""
    acked: dict[str, str] = {}
    busy = 0
    answered: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def read() -> None:
        try:
            async for raw in feed:
                await answered.put(json.loads(raw))
        finally:
            await answered.put({"type": "closed", "code": feed.close_code, "reason": feed.close_reason})

    async def reply(waiting: set[str], refused: list[int]) -> float:
        nonlocal busy
        frame = await asyncio.wait_for(answered.get(), 60)
        assert frame["type"] != "closed", f"the connection closed: {frame}"
        ref = frame.get("ref")
        assert ref in waiting, frame
        waiting.discard(ref)
        if frame["type"] == "ack":
            assert ref not in acked
            acked[ref] = frame["message_id"]
            return 0.0
        assert frame["type"] == "error" and frame["code"] == "busy" and frame["retry_after"] > 0, frame
        busy += 1
        refused.append(int(ref))
        return float(frame["retry_after"])

    reader = asyncio.create_task(read())
    try:
        waiting = {str(i) for i in range(N)}
        refused: list[int] = []
        for i in range(N):
            await feed.send(message(i))
        wait = 0.0
        while waiting:
            wait = max(wait, await reply(waiting, refused))
        await asyncio.sleep(min(wait, 2))
        while refused:
            todo, refused = sorted(refused), []
            for i in todo:
                while len(waiting) >= window:
                    await reply(waiting, refused)
                waiting.add(str(i))
                await feed.send(message(i))
            while waiting:
                await reply(waiting, refused)
    finally:
        reader.cancel()
    return acked, busy


@pytest.mark.asyncio
async def test_live_client_that_reads_nothing_is_closed_1013(tmp_path: Path) -> None:
    """Replies to a client's own frames are never dropped; one that asks and never reads is closed with 1013."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, seed_phrasebank=False, hub=HubSettings(send_queue=4, send_queue_max=8)
    )
    with live_server(settings, encoder=HashedEncoder()) as server:
        async with connect(server.ws) as feed:
            await feed.recv()
            big = {"type": "message", "conversation_id": "big", "role": "agent", "text": "消息" * 5_000, "id": "m"}
            await feed.send(json.dumps(big, ensure_ascii=False))
            assert json.loads(await feed.recv())["type"] == "ack"
        async with connect(server.ws, sock=small_window_socket(server.port), max_queue=1, compression=None) as slow:
            await slow.recv()
            for i in range(200):  # each `subscribed` carries the 30 kB message: far more than the socket holds
                await slow.send(json.dumps({"type": "subscribe", "conversation_id": "big", "id": str(i)}))
            for _ in range(100):
                if not server.hub.connections:
                    break
                await asyncio.sleep(0.1)
            assert not server.hub.connections  # dropped from the hub at once, before the client reads again
            kinds = []
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    kinds.append(json.loads(await asyncio.wait_for(slow.recv(), 30))["type"])
            assert info.value.rcvd is not None and info.value.rcvd.code == 1013
            assert kinds and set(kinds) == {"subscribed"} and len(kinds) < 200
