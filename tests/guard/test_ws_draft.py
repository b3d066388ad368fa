"""The websocket draft flow answers what POST /api/check answers: the rewrite, `allowed` and the guard's hits."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def _draft(client: TestClient, conversation_id: str, text: str, customer: str | None = None) -> dict[str, Any]:
    """The `rewrite` frame the websocket answers a draft with (after the customer's message, if given)."""
    if customer is not None:
        client.post(f"/api/conversations/{conversation_id}/messages", json={"role": "customer", "text": customer})
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "draft", "conversation_id": conversation_id, "text": text, "seq": 1})
        frame: dict[str, Any] = ws.receive_json()
    return frame


def test_ws_draft_carries_guard_hits_like_api_check(client: TestClient) -> None:
    frame = _draft(client, "w-1", "你是不是傻，订单已经发出了。", customer="我的快递呢？")
    assert frame["type"] == "rewrite" and frame["seq"] == 1 and frame["allowed"] is False
    api = client.post("/api/check", json={"text": "你是不是傻，订单已经发出了。", "conversation_id": "w-1"}).json()
    assert frame["hits"] == api["hits"]
    assert {h["rule"] for h in frame["hits"]} == {"zh.rude.insult", "zh.must.greeting"}
    assert frame["result"] == api["rewrite"]


def test_ws_clean_draft_is_allowed_without_hits(client: TestClient) -> None:
    frame = _draft(client, "w-2", "Thanks, your parcel is on its way.")
    assert frame["type"] == "rewrite" and frame["allowed"] is True and frame["hits"] == []


def test_a_draft_showing_neither_script_is_rewritten_in_the_conversations(client: TestClient) -> None:
    # 我不知道。 is written alike in both scripts; in a Traditional conversation its rewrite must stay Traditional.
    frame = _draft(client, "w-3", "我不知道。", customer="請問我的訂單什麼時候會到？")
    assert frame["type"] == "rewrite" and frame["result"]["lang"] == "zh-Hant"
    assert frame["result"]["rewritten"] != "我不知道。" and "会" not in frame["result"]["rewritten"]
    api = client.post("/api/check", json={"text": "我不知道。", "conversation_id": "w-3"}).json()
    assert api["rewrite"] == frame["result"]
    # The draft's own script wins, and with no conversation the draft is read alone (Simplified by default).
    simplified = client.post("/api/check", json={"text": "这个我不知道。", "conversation_id": "w-3"}).json()
    assert simplified["rewrite"]["lang"] == "zh-Hans"
    alone = client.post("/api/check", json={"text": "我不知道。"}).json()
    assert alone["rewrite"]["lang"] == "zh-Hans"


def test_draft_lang_prefers_the_agents_own_script() -> None:
    from assist.guard.service import draft_lang

    history = [("customer", "我的订单到哪了？"), ("agent", "您好，請稍等，我幫您查詢。")]
    assert draft_lang("我不知道。", history) == "zh-Hant"
    assert draft_lang("我不知道。", history[:1]) == "zh-Hans"
    assert draft_lang("我不知道。", [("customer", "hello?")]) == "auto"
    assert draft_lang("I don't know.", history) == "auto"  # not Chinese: its own language
    assert draft_lang("我不知道。", None) == "auto"
