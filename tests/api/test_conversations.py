"""REST conversations (the webhook path), Chatwoot intake, CORS, the demo script, and logs without chat text."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assist.auth import TokenStore
from assist.bank.store import PhraseStore
from assist.config import Settings
from assist.demo import DemoLine, DemoScript, load_script, play_demo
from tests.fakes import fake_app


def test_post_customer_message_answers_with_analysis_and_suggestions(client: TestClient) -> None:
    r = client.post("/api/conversations/t-1/messages", json={"role": "customer", "text": "Where is my refund?!"})
    assert r.status_code == 200
    body = r.json()
    assert body["conversation_id"] == "t-1" and body["message"]["message_id"] == "m1"
    assert body["analysis"]["lang"] == "en" and "suggestions" in body
    r = client.post("/api/conversations/t-1/messages", json={"role": "agent", "text": "Checking now."})
    assert set(r.json()) == {"conversation_id", "message"}
    state = client.get("/api/conversations/t-1").json()
    assert [m["role"] for m in state["messages"]] == ["customer", "agent"]
    assert state["suggestions"] is not None and state["analysis"]["lang"] == "en"


def test_conversation_errors(client: TestClient) -> None:
    r = client.get("/api/conversations/never-seen")
    assert r.status_code == 404 and r.json()["code"] == "unknown_conversation"
    r = client.post("/api/conversations/bad%20id/messages", json={"role": "customer", "text": "x"})
    assert r.status_code == 422
    r = client.post("/api/conversations/t-2/messages", json={"role": "robot", "text": "x"})
    assert r.status_code == 422
    r = client.post("/api/conversations/t-2/messages", content=b"{oops", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


@pytest.fixture
def secured(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = PhraseStore.connect(settings.sqlalchemy_url)
    tokens = TokenStore(store)
    secrets = {role: tokens.create(role, role)[1] for role in ("agent", "integration", "lead")}
    store.close()
    with TestClient(fake_app(settings)) as c:
        yield c, secrets


def test_conversation_roles(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = secured
    body = {"role": "customer", "text": "hello"}
    assert client.post("/api/conversations/r/messages", json=body).status_code == 401
    r = client.post("/api/conversations/r/messages", json=body, headers={"Authorization": f"Bearer {secrets['agent']}"})
    assert r.status_code == 403
    r = client.post(
        "/api/conversations/r/messages", json=body, headers={"Authorization": f"Bearer {secrets['integration']}"}
    )
    assert r.status_code == 200
    r = client.get("/api/conversations/r", headers={"Authorization": f"Bearer {secrets['agent']}"})
    assert r.status_code == 200


def chatwoot(message_type: str = "incoming", content: str | None = "My order never arrived!", **extra: object) -> dict:
    payload = {
        "event": "message_created",
        "id": 501,
        "content": content,
        "message_type": message_type,
        "private": False,
        "created_at": "2026-11-23T10:00:00Z",
        "account": {"id": 3},
        "conversation": {"id": 77},
        "sender": {"name": "Dana"},
    }
    payload.update(extra)
    return payload


def test_chatwoot_incoming_and_outgoing_map_onto_the_conversation(client: TestClient) -> None:
    r = client.post("/api/integrations/chatwoot", json=chatwoot())
    assert r.json() == {"accepted": True, "conversation_id": "chatwoot:3:77", "message_id": "cw-501"}
    r = client.post("/api/integrations/chatwoot", json=chatwoot("outgoing", "Sorry, checking now.", id=502))
    assert r.json()["accepted"]
    state = client.get("/api/conversations/chatwoot:3:77").json()
    assert [(m["role"], m["message_id"]) for m in state["messages"]] == [("customer", "cw-501"), ("agent", "cw-502")]
    assert state["messages"][0]["t"] == 1795428000.0


@pytest.mark.parametrize(
    "payload",
    [
        chatwoot(private=True),
        chatwoot("activity"),
        chatwoot(content=None),
        chatwoot(content="  "),
        {**chatwoot(), "event": "conversation_created"},
        {**chatwoot(), "conversation": None},
    ],
    ids=["private-note", "activity", "attachment-only", "blank", "other-event", "no-conversation"],
)
def test_chatwoot_ignores_what_is_not_a_public_message(client: TestClient, payload: dict) -> None:
    r = client.post("/api/integrations/chatwoot", json=payload)
    assert r.status_code == 200 and r.json()["accepted"] is False and r.json()["reason"]


def test_chatwoot_needs_an_integration_token_once_tokens_exist(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = secured
    assert client.post("/api/integrations/chatwoot", json=chatwoot()).status_code == 401
    r = client.post("/api/integrations/chatwoot", params={"token": secrets["agent"]}, json=chatwoot())
    assert r.status_code == 403
    r = client.post("/api/integrations/chatwoot", params={"token": secrets["integration"]}, json=chatwoot())
    assert r.status_code == 200 and r.json()["accepted"]


def test_cors_allows_configured_widget_origins(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        seed_phrasebank=False,  # type: ignore[call-arg]
        cors_origins=["https://help.example.com"],
    )
    with TestClient(fake_app(settings)) as c:
        r = c.options(
            "/api/suggest", headers={"Origin": "https://help.example.com", "Access-Control-Request-Method": "POST"}
        )
        assert r.headers["access-control-allow-origin"] == "https://help.example.com"
        r = c.options(
            "/api/suggest", headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in r.headers


def test_demo_script_plays_into_the_hub(client: TestClient) -> None:
    script = load_script()
    assert script.conversation_id == "demo" and {line.role for line in script.lines} == {"customer", "agent"}
    quick = DemoScript(
        conversation_id="demo-test",
        pause_between_rounds=1,
        lines=[DemoLine(after=0, role=line.role, text=line.text) for line in script.lines],
    )
    hub = client.app.state.hub  # type: ignore[attr-defined]
    client.portal.call(lambda: asyncio.wait_for(play_demo(hub, quick, rounds=1), 60))  # type: ignore[union-attr]
    state = client.get("/api/conversations/demo-test").json()
    customers = sum(line.role == "customer" for line in script.lines)
    assert len(state["messages"]) == len(script.lines) and len(state["analysis"]["trajectory"]) == customers
    assert state["suggestions"] is not None  # nobody watched: computed when asked for (the bank here is empty)


def test_logs_never_contain_chat_text(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    secret = "我的身份证号是 110101199003071234 地址在幸福路88号"
    caplog.set_level(logging.DEBUG)
    client.post("/api/conversations/log-1/messages", json={"role": "customer", "text": secret})
    client.post("/api/suggest", json={"text": secret})
    client.post("/api/analyze", json={"text": secret})
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "draft", "conversation_id": "log-1", "text": secret})
        ws.receive_json()
        ws.send_text('{"type": "message", "text": "' + secret + '"')  # malformed: the error must not echo it
        assert secret not in ws.receive_text()
    logged = "\n".join(r.getMessage() + str(r.args) + str(getattr(r, "__dict__", "")) for r in caplog.records)
    assert "110101199003071234" not in logged and "幸福路" not in logged
