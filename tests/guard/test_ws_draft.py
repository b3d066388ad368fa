"""The websocket draft flow answers what POST /api/check answers: the rewrite, `allowed` and the guard's hits."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_ws_draft_carries_guard_hits_like_api_check(client: TestClient) -> None:
    client.post("/api/conversations/w-1/messages", json={"role": "customer", "text": "我的快递呢？"})
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "draft", "conversation_id": "w-1", "text": "你是不是傻，订单已经发出了。", "seq": 1})
        frame = ws.receive_json()
    assert frame["type"] == "rewrite" and frame["seq"] == 1 and frame["allowed"] is False
    api = client.post("/api/check", json={"text": "你是不是傻，订单已经发出了。", "conversation_id": "w-1"}).json()
    assert frame["hits"] == api["hits"]
    assert {h["rule"] for h in frame["hits"]} == {"zh.rude.insult", "zh.must.greeting"}
    assert frame["result"] == api["rewrite"]


def test_ws_clean_draft_is_allowed_without_hits(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "draft", "conversation_id": "w-2", "text": "Thanks, your parcel is on its way."})
        frame = ws.receive_json()
    assert frame["type"] == "rewrite" and frame["allowed"] is True and frame["hits"] == []
