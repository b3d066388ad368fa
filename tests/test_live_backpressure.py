"""Issue 17 item 8 over a real socket: a feeder that bursts messages gets every one acknowledged or refused with a
retryable `busy`, the socket stays up (its keepalive pings are answered), and none is silently lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from assist.config import HubSettings, Settings
from tests.fakes import HashedEncoder
from tests.live import live_server

pytestmark = pytest.mark.live


@pytest.mark.asyncio
async def test_live_burst_is_acked_or_refused_busy_never_lost(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, hub=HubSettings(max_pending=32))  # type: ignore[call-arg]
    with live_server(settings, encoder=HashedEncoder()) as server:
        n = 1000
        conversations = [f"burst-{k}" for k in range(10)]
        # A client keepalive much shorter than the work queued: a server that stops reading while it works
        # leaves the client's pings unanswered behind the burst, and the client gives up with 1011.
        async with connect(server.ws, ping_interval=1, ping_timeout=3, max_queue=None) as feed:
            assert json.loads(await feed.recv())["type"] == "hello"
            acked: dict[str, str] = {}
            refused: dict[str, float] = {}
            busy_seen = 0
            replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

            async def read() -> None:
                async for raw in feed:
                    await replies.put(json.loads(raw))

            reader = asyncio.create_task(read())

            async def burst(ids: list[int]) -> None:
                for i in ids:
                    text = f"where is my order number {i}?? it has been a week"
                    frame = {"type": "message", "conversation_id": conversations[i % 10], "role": "customer"}
                    # `pad` is ignored by the server (frames ignore unknown fields); it makes the burst several
                    # of the server's 256 kB reads, as 10,000 short messages would
                    pad = "x" * 2000
                    await feed.send(json.dumps(frame | {"text": text, "id": str(i), "pad": pad}))

            todo = list(range(n))
            for _round in range(200):
                await burst(todo)
                waiting = {str(i) for i in todo}
                while waiting:
                    reply = await asyncio.wait_for(replies.get(), 60)
                    ref = reply.get("ref")
                    assert ref in waiting, reply
                    waiting.discard(ref)
                    if reply["type"] == "ack":
                        assert ref not in acked
                        acked[ref] = reply["message_id"]
                    else:
                        assert reply["type"] == "error" and reply["code"] == "busy", reply
                        assert reply["retry_after"] > 0
                        refused[ref] = reply["retry_after"]
                        busy_seen += 1
                todo = sorted(int(r) for r in refused)
                if not todo:
                    break
                await asyncio.sleep(min(max(refused.values()), 2))
                refused.clear()
            reader.cancel()
        assert len(acked) == n and busy_seen > 0
        held = server.hub.conversations
        assert sum(held[c].seq for c in conversations) == n  # every acknowledged message was processed, once
