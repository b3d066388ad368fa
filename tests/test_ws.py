"""The /ws protocol through TestClient: frames, errors that keep the socket open, auth, hub flows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assist.auth import TokenStore
from assist.bank.store import PhraseStore
from assist.config import Settings
from tests.fakes import fake_app


def frames_until(ws: Any, kind: str, limit: int = 50, ref: str | None = None) -> list[dict[str, Any]]:
    """Receive frames until one of `kind` (replying to `ref`, if given) arrives; all of them, in order."""
    seen = []
    for _ in range(limit):
        frame = ws.receive_json()
        seen.append(frame)
        if frame["type"] == kind and (ref is None or frame.get("ref") == ref):
            return seen
    raise AssertionError(f"no {kind} frame in {seen}")


def test_ws_hello_and_ping(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["protocol"] == 1 and hello["auth"] == "open"
        assert hello["limits"]["max_frame_bytes"] == 262144
        ws.send_json({"type": "ping", "id": "p1"})
        assert ws.receive_json() == {"type": "pong", "ref": "p1"}


@pytest.mark.parametrize(
    ("send", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('"text"', "invalid_json"),
        ("[" * 100_000, "invalid_json"),
        ('{"id": "x1"}', "unknown_type"),
        ('{"type": "shout", "id": "x2"}', "unknown_type"),
        ('{"type": "message", "id": "x3", "role": "customer", "text": "hi"}', "invalid_frame"),
        ('{"type": "message", "conversation_id": "a b", "role": "customer", "text": "hi"}', "invalid_frame"),
        ('{"type": "message", "conversation_id": "c1", "role": "bot", "text": "hi"}', "invalid_frame"),
        ('{"type": "feedback", "conversation_id": "c1", "phrase_id": "x", "action": "used"}', "invalid_frame"),
        ('{"type": "draft", "conversation_id": "c1"}', "invalid_frame"),
    ],
)
def test_ws_bad_frames_get_an_error_and_the_socket_stays_open(client: TestClient, send: str, code: str) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_text(send)
        err = ws.receive_json()
        assert err["type"] == "error" and err["code"] == code and err["detail"]
        if '"id": "x' in send:
            assert err["ref"].startswith("x")
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"


def test_ws_binary_and_oversize_frames(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_bytes(b"\x00\x01binary")
        assert ws.receive_json()["code"] == "unsupported_data"
        big = json.dumps({"type": "message", "conversation_id": "c1", "role": "customer", "text": "字" * 400_000})
        ws.send_text(big)  # about 1.2 MB
        assert ws.receive_json()["code"] == "frame_too_large"
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"


def test_ws_unsupported_protocol_closes_1002(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "hello", "protocol": 2})
        assert ws.receive_json()["code"] == "unsupported_protocol"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 1002


def test_ws_feed_reaches_subscribers_in_order(shipped: TestClient) -> None:
    with shipped.websocket_connect("/ws") as agent, shipped.websocket_connect("/ws") as feed:
        agent.receive_json()
        feed.receive_json()
        agent.send_json({"type": "subscribe", "conversation_id": "c-1", "id": "s"})
        sub = agent.receive_json()
        assert sub == {
            "type": "subscribed",
            "conversation_id": "c-1",
            "ref": "s",
            "state": {"messages": [], "analysis": None, "suggestions": None, "updated_at": None},
        }
        feed.send_json(
            {
                "type": "message",
                "conversation_id": "c-1",
                "role": "customer",
                "id": "m",
                "text": "我的快递怎么还没到！！都一个星期了，再不处理我就投诉",
            }
        )
        ack = feed.receive_json()
        assert ack["type"] == "ack" and ack["ref"] == "m" and ack["message_id"] == "m1"
        frames = frames_until(agent, "suggestions")
        assert [f["type"] for f in frames] == ["message", "analysis", "suggestions"]
        analysis = frames[1]["analysis"]
        assert analysis["lang"] == "zh-Hans" and analysis["emotion"]["label"] in ("anger", "frustration")
        assert {c["kind"] for c in analysis["emotion"]["cues"]} >= {"exclamation", "threat"}
        items = frames[2]["items"]
        assert items and all(i["why"] for i in items)
        assert {"delay", "delivery"} & {s["situation"] for s in frames[2]["situations"]}
        # a second agent joining later gets the same state to resync from
        with shipped.websocket_connect("/ws") as late:
            late.receive_json()
            late.send_json({"type": "subscribe", "conversation_id": "c-1"})
            state = late.receive_json()["state"]
            assert state["messages"][0]["text"].startswith("我的快递")
            assert state["analysis"] == analysis and state["suggestions"]["items"] == items


def test_ws_agent_messages_give_context_not_suggestions(shipped: TestClient) -> None:
    with shipped.websocket_connect("/ws") as agent:
        agent.receive_json()
        agent.send_json({"type": "subscribe", "conversation_id": "c-2"})
        agent.receive_json()
        agent.send_json({"type": "message", "conversation_id": "c-2", "role": "agent", "text": "您好，请问有什么事？"})
        assert agent.receive_json()["type"] == "message"
        assert agent.receive_json()["type"] == "ack"


def test_ws_draft_is_rewritten_with_changes(shipped: TestClient) -> None:
    with shipped.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "draft", "conversation_id": "c-3", "text": "我不知道，您必须自己去查", "seq": 7})
        frame = ws.receive_json()
        assert frame["type"] == "rewrite" and frame["seq"] == 7 and frame["conversation_id"] == "c-3"
        result = frame["result"]
        assert result["changed"] and "我不知道" not in result["rewritten"]
        for change in result["changes"]:
            assert result["original"][change["start"] : change["end"]] == change["before"] and change["why"]


def test_ws_drafts_latest_wins(shipped: TestClient) -> None:
    with shipped.websocket_connect("/ws") as ws:
        ws.receive_json()
        for seq in range(1, 31):
            ws.send_json({"type": "draft", "conversation_id": "c-4", "text": f"我不知道 {seq}", "seq": seq})
        ws.send_json({"type": "ping", "id": "end"})
        seqs = []
        while True:
            frame = ws.receive_json()
            if frame["type"] == "rewrite":
                seqs.append(frame["seq"])
                if frame["seq"] == 30:
                    break
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) and seqs[-1] == 30


def test_ws_feedback_counts_usage(shipped: TestClient, tmp_path: Path) -> None:
    with shipped.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "conversation_id": "c-5"})
        ws.receive_json()
        ws.send_json({"type": "message", "conversation_id": "c-5", "role": "customer", "text": "Charged twice!!"})
        items = frames_until(ws, "suggestions")[-1]["items"]
        chosen = items[0]["phrase_id"]
        for n in range(3):  # a repeated frame (a double click, a retry) counts once
            ws.send_json(
                {"type": "feedback", "conversation_id": "c-5", "phrase_id": chosen, "action": "used", "id": f"f{n}"}
            )
            frames_until(ws, "ack", ref=f"f{n}")
        ws.send_json({"type": "feedback", "conversation_id": "c-5", "phrase_id": 999999, "action": "used"})
        assert frames_until(ws, "error")[-1]["code"] == "phrase_not_found"
        ws.send_json({"type": "feedback", "conversation_id": "nope", "phrase_id": chosen, "action": "dismissed"})
        assert frames_until(ws, "error")[-1]["code"] == "unknown_conversation"
    usage = shipped.get(f"/api/phrases/{chosen}/usage").json()["totals"]
    assert usage["used"] == 1
    shipped.portal.call(shipped.app.state.hub.usage.flush)  # `shown` is batched: flushed every 5 s and at shutdown
    usage = shipped.get(f"/api/phrases/{chosen}/usage").json()["totals"]
    assert usage["shown"] == 1 and usage["acceptance_rate"] == 1.0


@pytest.mark.slow  # 10,000 messages
def test_ws_long_conversation_stays_bounded(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        for n in range(10_000):
            role = "customer" if n % 2 else "agent"
            text = f"第{n}条消息 message {n}"
            ws.send_json({"type": "message", "conversation_id": "long", "role": role, "text": text})
            if n % 100 == 99:  # at most 100 unanswered: under the connection's max_pending, never refused `busy`
                assert [ws.receive_json()["type"] for _ in range(100)] == ["ack"] * 100
        ws.send_json({"type": "subscribe", "conversation_id": "long"})
        state = frames_until(ws, "subscribed")[-1]["state"]
    assert len(state["messages"]) == 50 and state["messages"][-1]["text"].endswith("message 9999")
    assert len(state["analysis"]["trajectory"]) <= 200


def test_ws_long_text_is_cut_and_flagged(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "conversation_id": "cut"})
        ws.receive_json()
        ws.send_json({"type": "message", "conversation_id": "cut", "role": "customer", "text": "a" * 50_000})
        message = ws.receive_json()["message"]
        assert message["truncated"] and len(message["text"]) == 20_000


# ---- auth ------------------------------------------------------------------------------------


@pytest.fixture
def secured(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = PhraseStore.connect(settings.sqlalchemy_url)
    tokens = TokenStore(store)
    secrets = {role: tokens.create(role, role, "support")[1] for role in ("agent", "lead", "integration")}
    store.close()
    with TestClient(fake_app(settings)) as c:
        yield c, secrets


def test_ws_auth_required_then_roles(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = secured
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["auth"] == "required"
        ws.send_json({"type": "subscribe", "conversation_id": "c", "id": "early"})
        assert ws.receive_json() | {"detail": ""} == {
            "type": "error",
            "code": "unauthorized",
            "detail": "",
            "ref": "early",
        }
        ws.send_json({"type": "auth", "token": secrets["agent"]})
        assert ws.receive_json() == {"type": "authenticated", "role": "agent", "team": "support", "name": "agent"}
        ws.send_json({"type": "message", "conversation_id": "c", "role": "customer", "text": "hi"})
        assert ws.receive_json()["code"] == "forbidden"
        ws.send_json({"type": "subscribe", "conversation_id": "c"})
        assert ws.receive_json()["type"] == "subscribed"
    with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {secrets['integration']}"}) as ws:
        assert ws.receive_json()["type"] == "hello"
        assert ws.receive_json()["role"] == "integration"
        ws.send_json({"type": "message", "conversation_id": "c", "role": "customer", "text": "hi"})
        assert ws.receive_json()["type"] == "ack"
        ws.send_json({"type": "draft", "conversation_id": "c", "text": "x"})
        assert ws.receive_json()["code"] == "forbidden"


def test_ws_revoked_token_closes_open_sockets_1008(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = secured
    services = client.app.state.services  # type: ignore[attr-defined]
    with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {secrets['agent']}"}) as ws:
        ws.receive_json()
        assert ws.receive_json()["type"] == "authenticated"
        agent = next(t for t in services.tokens.list() if t["role"] == "agent")
        services.tokens.revoke(agent["id"])
        assert client.portal.call(services.hub.connections.recheck, services.tokens) == 1  # every 15 s in service
        assert ws.receive_json()["code"] == "token_revoked"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 1008


def test_ws_agents_see_their_teams_conversations(
    secured: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, secrets = secured
    store = PhraseStore.connect(settings.sqlalchemy_url)
    other = TokenStore(store).create("other-agent", "agent", "billing")[1]
    store.close()
    with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {secrets['integration']}"}) as feed:
        feed.receive_json(), feed.receive_json()
        feed.send_json({"type": "message", "conversation_id": "t1", "role": "customer", "text": "hi", "id": "m"})
        frames_until(feed, "ack", ref="m")
    with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {other}"}) as ws:
        ws.receive_json(), ws.receive_json()
        ws.send_json({"type": "subscribe", "conversation_id": "t1", "id": "s"})
        assert ws.receive_json()["code"] == "forbidden"  # t1 belongs to the integration's team, support
    assert client.get("/api/conversations/t1", headers={"Authorization": f"Bearer {other}"}).status_code == 403
    ok = client.get("/api/conversations/t1", headers={"Authorization": f"Bearer {secrets['agent']}"})
    assert ok.status_code == 200 and ok.json()["messages"][0]["text"] == "hi"


def test_ws_bad_token_closes_1008(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = secured
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "auth", "token": "aa_forged"})
        assert ws.receive_json()["code"] == "unauthorized"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 1008
