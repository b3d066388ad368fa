"""Issue 17, websocket and hub edges: lone surrogates made valid at the edge, one bad text never fails an encoder
batch, a broken writer closes its socket, replies never dropped, a client that cannot keep up is closed, and an
unauthenticated socket is timed out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assist.auth import TokenStore
from assist.bank.store import PhraseStore
from assist.config import HubSettings, Settings
from assist.hub import Outbox
from assist.protocol import AckOut, PongOut, decode
from assist.retrieval.batcher import EncodeBatcher
from assist.text import valid_json, valid_text
from assist.ws import Connection
from tests.fakes import HashedEncoder, fake_app

LONE = '"a \\ud800 b"'  # JSON for a string holding a lone high surrogate: valid JSON, invalid Unicode


def eventually(check: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return bool(check())


# ---- 1: lone surrogates ------------------------------------------------------------------------------


def test_valid_text_replaces_each_lone_surrogate() -> None:
    assert valid_text("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert valid_text("emoji 😀 kept") == "emoji 😀 kept"
    assert valid_json({"k\udc00": ["x\ud83d", 1, None, {"y": "\ud800"}]}) == {
        "k\ufffd": ["x\ufffd", 1, None, {"y": "\ufffd"}]
    }


def test_decoded_frames_hold_no_lone_surrogate() -> None:
    frame = decode('{"type": "message", "conversation_id": "c", "role": "customer", "text": ' + LONE + "}", 1 << 16)
    assert frame.text == "a \ufffd b"
    frame.text.encode("utf-8")


def test_ws_lone_surrogate_reaches_nobody_invalid(client: TestClient) -> None:
    with client.websocket_connect("/ws") as agent, client.websocket_connect("/ws") as feed:
        agent.receive_json()
        feed.receive_json()
        agent.send_json({"type": "subscribe", "conversation_id": "sur", "id": "s"})
        assert agent.receive_json()["type"] == "subscribed"
        feed.send_text(
            '{"type": "message", "conversation_id": "sur", "role": "customer", "id": "m", "text": ' + LONE + "}"
        )
        assert feed.receive_json()["type"] == "ack"
        r = client.get("/api/conversations/sur")
        assert r.status_code == 200 and r.json()["messages"][0]["text"] == "a \ufffd b"
        message = agent.receive_json()
        assert message["type"] == "message" and message["message"]["text"] == "a \ufffd b"
        assert agent.receive_json()["type"] == "analysis"


def test_rest_message_with_lone_surrogate_is_made_valid(client: TestClient) -> None:
    body = '{"role": "customer", "text": ' + LONE + ', "message_id": "x\\udc00"}'
    r = client.post("/api/conversations/rest-sur/messages", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["message"]["text"] == "a \ufffd b" and r.json()["message"]["message_id"] == "x\ufffd"
    assert client.get("/api/conversations/rest-sur").status_code == 200


def test_chatwoot_webhook_with_lone_surrogate_is_made_valid(client: TestClient) -> None:
    body = (
        '{"event": "message_created", "message_type": "incoming", "id": 7, "conversation": {"id": 3},'
        ' "content": ' + LONE + "}"
    )
    r = client.post("/api/integrations/chatwoot", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"], r.text
    state = client.get(f"/api/conversations/{r.json()['conversation_id']}")
    assert state.status_code == 200 and state.json()["messages"][0]["text"] == "a \ufffd b"


@pytest.mark.asyncio
async def test_one_failing_text_fails_only_its_own_encode() -> None:
    batcher = EncodeBatcher(HashedEncoder())  # the hashed encoder, like a tokenizer, cannot encode a surrogate
    texts = ["fine one", "bad \ud800", "fine two", "fine three"]
    results = await asyncio.gather(*(batcher.encode(t) for t in texts), return_exceptions=True)
    assert batcher.batches[0] == 4  # they went as one batch
    assert isinstance(results[1], UnicodeEncodeError)
    for i in (0, 2, 3):
        assert isinstance(results[i], np.ndarray)
        np.testing.assert_allclose(results[i], (await batcher.encode(texts[i])), rtol=1e-6)


def test_writer_failure_closes_1011_and_leaves_the_hub(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Connection.encode

    def fail_on_messages(frame: Any) -> str:
        if frame.type == "message":
            raise ValueError("cannot serialise")
        return real(frame)

    monkeypatch.setattr(Connection, "encode", staticmethod(fail_on_messages))
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with client.websocket_connect("/ws") as agent, client.websocket_connect("/ws") as feed:
        agent.receive_json()
        feed.receive_json()
        agent.send_json({"type": "subscribe", "conversation_id": "w", "id": "s"})
        assert agent.receive_json()["type"] == "subscribed"
        feed.send_json({"type": "message", "conversation_id": "w", "role": "agent", "text": "hi", "id": "m"})
        assert eventually(lambda: len(hub.connections) == 1)  # the agent's connection is gone from the hub
        assert not hub.events.watched("w")  # and no longer watches the conversation
        with pytest.raises(WebSocketDisconnect) as info:
            agent.receive_json()
        assert info.value.code == 1011
        feed.send_json({"type": "ping", "id": "p"})
        assert feed.receive_json()["type"] == "ack"
        assert feed.receive_json() == {"type": "pong", "ref": "p"}


# ---- 7: the outbox keeps replies; a client that cannot keep up is closed ------------------------------


def frame(kind: str, n: int) -> Any:
    return SimpleNamespace(type=kind, n=n)


def test_outbox_never_drops_a_reply() -> None:
    box = Outbox(3, limit=10)
    for n in range(8):
        box.put(frame("ack" if n % 2 else "pong", n))
    assert [f.n for f in box._items] == list(range(8)) and box.dropped == 0 and not box.overflowed
    box.put(frame("suggestions", 8))  # an event, with the soft cap reached and nothing droppable: it goes
    assert box.dropped == 1 and len(box) == 8


def test_outbox_over_its_hard_cap_overflows() -> None:
    box = Outbox(2, limit=4)
    box.put(frame("message", 0))
    for n in range(1, 5):
        box.put(frame("error", n))
    assert not box.overflowed and [f.n for f in box._items] == [1, 2, 3, 4]  # the event made room
    box.put(frame("ack", 5))
    assert box.overflowed and len(box) == 0


class StuckSocket:
    """A websocket whose client reads nothing: every send waits forever."""

    def __init__(self) -> None:
        self.closed_with: int | None = None
        self.application_state = None
        self.sent = 0

    async def send_text(self, text: str) -> None:
        self.sent += 1
        await asyncio.Event().wait()

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code


@pytest.mark.asyncio
async def test_connection_that_cannot_keep_up_is_closed_1013(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, hub=HubSettings(send_queue=2, send_queue_max=5))  # type: ignore[call-arg]
    sock = StuckSocket()
    conn = Connection(sock, SimpleNamespace(), settings)  # type: ignore[arg-type]
    conn.start()
    for n in range(20):
        conn.send(PongOut(ref=str(n)))
        conn.send(AckOut(ref=str(n)))
        await asyncio.sleep(0)
    await asyncio.wait_for(conn.closed(), 5)
    await conn.stop()
    assert sock.closed_with == 1013 and conn.close_code == 1013 and sock.sent == 1


# ---- 18: unauthenticated sockets time out --------------------------------------------------------------


@pytest.fixture
def secured_fast_timeout(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None, data_dir=tmp_path, seed_phrasebank=False, hub=HubSettings(auth_timeout_seconds=0.3)
    )  # type: ignore[call-arg]
    store = PhraseStore.connect(settings.sqlalchemy_url)
    TokenStore(store).create("ann", "agent", "support")
    store.close()
    with TestClient(fake_app(settings)) as c:
        yield c


def test_ws_unauthenticated_socket_is_closed_1008_after_the_timeout(secured_fast_timeout: TestClient) -> None:
    hub = secured_fast_timeout.app.state.hub  # type: ignore[attr-defined]
    with secured_fast_timeout.websocket_connect("/ws") as ws:
        assert ws.receive_json()["auth"] == "required"
        assert eventually(lambda: len(hub.connections) == 0, 5)
        err = ws.receive_json()
        assert err["type"] == "error" and err["code"] == "unauthorized" and "0.3" in err["detail"]
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 1008


def test_ws_open_access_is_not_timed_out(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, data_dir=tmp_path, seed_phrasebank=False, hub=HubSettings(auth_timeout_seconds=0.1)
    )  # type: ignore[call-arg]
    with TestClient(fake_app(settings)) as c, c.websocket_connect("/ws") as ws:
        assert ws.receive_json()["auth"] == "open"
        time.sleep(0.3)
        ws.send_json({"type": "ping", "id": "p"})
        assert ws.receive_json() == {"type": "pong", "ref": "p"}
