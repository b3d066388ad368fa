"""POST /api/analyze: one message, a conversation, and the 422s for bad bodies."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_analyze_message(client: TestClient) -> None:
    r = client.post("/api/analyze", json={"text": "再不退款我就打12315投诉你们！！"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"lang", "emotion", "trajectory", "customer", "hints"}
    assert body["lang"] == "zh-Hans"
    assert body["emotion"]["label"] == "anger"
    kinds = {c["kind"] for c in body["emotion"]["cues"]}
    assert {"threat", "exclamation"} <= kinds
    cue = next(c for c in body["emotion"]["cues"] if c["kind"] == "threat")
    assert "再不退款我就打12315投诉你们！！"[cue["start"] : cue["end"]] == cue["text"]


def test_analyze_conversation_reads_latest_customer_message_in_context(client: TestClient) -> None:
    turns = [
        {"role": "customer", "text": "我要退款，东西坏了", "t": 0},
        {"role": "agent", "text": "很抱歉，已经超过七天，无法退款", "t": 30},
        {"role": "customer", "text": "太好了", "t": 45},
    ]
    r = client.post("/api/analyze", json={"conversation": turns})
    assert r.status_code == 200
    emotion = r.json()["emotion"]
    assert emotion["label"] != "satisfaction"
    assert "sarcasm" in {c["kind"] for c in emotion["cues"]}
    assert len(r.json()["trajectory"]) == 2


def test_analyze_rejects_both_or_neither(client: TestClient) -> None:
    for body in ({}, {"text": "hi", "conversation": [{"role": "customer", "text": "hi", "t": 0}]}):
        r = client.post("/api/analyze", json=body)
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"


def test_analyze_rejects_unknown_role(client: TestClient) -> None:
    r = client.post("/api/analyze", json={"conversation": [{"role": "bot", "text": "hi", "t": 0}]})
    assert r.status_code == 422


def test_analyze_bad_input_is_defined(client: TestClient) -> None:
    for text in ["", "   ", "😀😀", "a" * 100_000, "abc\x00\x07def", "订单refund还没到ASAP"]:
        r = client.post("/api/analyze", json={"text": text})
        assert r.status_code == 200, text[:20]
        assert r.json()["emotion"]["label"]
    assert client.post("/api/analyze", json={"text": "a" * 100_000}).json()["truncated"] is True
