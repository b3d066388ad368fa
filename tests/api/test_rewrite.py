"""POST /api/rewrite through the app (lifespan builds the Rewriter once)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assist.auth import TokenStore


def test_create_rewrite_zh(client: TestClient) -> None:
    r = client.post("/api/rewrite", json={"text": "我不知道，您必须等几天。"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"lang", "original", "rewritten", "changed", "changes", "flags"}
    assert body["lang"] == "zh-Hans" and body["changed"]
    assert "我不知道" not in body["rewritten"] and "{时间}" in body["rewritten"]
    for c in body["changes"]:
        assert set(c) == {"start", "end", "before", "after", "rule", "why"}
        assert body["original"][c["start"] : c["end"]] == c["before"]


def test_create_rewrite_traditional_and_lang_override(client: TestClient) -> None:
    body = client.post("/api/rewrite", json={"text": "這是您的錯。"}).json()
    assert body["lang"] == "zh-Hant" and body["rewritten"] == "讓我們一起找出解決方案。"
    body = client.post("/api/rewrite", json={"text": "You must sign in.", "lang": "en"}).json()
    assert body["rewritten"] == "Please sign in."


def test_create_rewrite_clean_and_empty(client: TestClient) -> None:
    for text in ("No problem at all, happy to help.", "", "\x00"):
        body = client.post("/api/rewrite", json={"text": text}).json()
        assert body["rewritten"] == text and not body["changed"] and body["changes"] == []


def test_create_rewrite_flags(client: TestClient) -> None:
    body = client.post("/api/rewrite", json={"text": "Good luck with that."}).json()
    assert not body["changed"] and body["flags"][0]["rule"] == "en.sarcasm.v1"
    body = client.post("/api/rewrite", json={"text": "我們規定就是這樣，沒辦法退。"}).json()
    assert not body["changed"]
    assert {f["family"] for f in body["flags"]} == {"policy", "refusal"}  # v2: no safe rewrite, flagged
    assert all(f["principle"] and f["situation"] == "policy" for f in body["flags"])


def test_create_rewrite_validation(client: TestClient) -> None:
    r = client.post("/api/rewrite", json={"text": "hi", "lang": "fr"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert client.post("/api/rewrite", json={}).status_code == 422
    assert client.post("/api/rewrite", json={"text": "x" * 200_001}).status_code == 422


def test_create_rewrite_any_role_with_a_token(client: TestClient) -> None:
    tokens = TokenStore(client.app.state.services.usage.db)  # type: ignore[attr-defined]
    _, secret = tokens.create("agent-1", "agent")
    assert client.post("/api/rewrite", json={"text": "hi"}).status_code == 401
    r = client.post("/api/rewrite", json={"text": "I don't know."}, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.json()["changed"]
