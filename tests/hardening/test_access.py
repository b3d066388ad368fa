"""Issue 17, item 12: the access mode is explicit and sticky, and open access checks Host and Origin."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assist.auth import TokenStore
from assist.bank.db import Database
from assist.cli import main
from assist.config import Settings, get_settings
from tests.fakes import fake_app
from tests.utils import phrase


def test_revoking_the_last_token_does_not_reopen_access(settings: Settings) -> None:
    db = Database.connect(settings.sqlalchemy_url)
    tokens = TokenStore(db)
    assert tokens.mode() == "open"
    info, _ = tokens.create("alice", "lead")
    tokens.revoke(info["id"])
    assert tokens.mode() == "tokens"
    db.close()
    with TestClient(fake_app(settings)) as c:
        r = c.get("/api/phrases")
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
        with c.websocket_connect("/ws") as ws:
            assert ws.receive_json()["auth"] == "required"


def test_open_access_comes_back_only_when_asked(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSIST_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("ASSIST_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        created = runner.invoke(main, ["token", "create", "--role", "lead", "--name", "a", "--json"])
        assert created.exit_code == 0, created.output
        refused = runner.invoke(main, ["token", "mode", "open"])
        assert refused.exit_code != 0 and "revoke" in refused.output
        assert runner.invoke(main, ["token", "revoke", "1"]).exit_code == 0
        assert runner.invoke(main, ["token", "mode"]).output.strip() == "tokens"
        assert runner.invoke(main, ["token", "mode", "open"]).exit_code == 0
        assert runner.invoke(main, ["token", "mode"]).output.strip() == "open"
    finally:
        get_settings.cache_clear()
    with TestClient(fake_app(settings)) as c:
        assert c.get("/api/phrases").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"host": "evil.example"},
        {"host": "rebind.evil.example:8000", "origin": "http://rebind.evil.example:8000"},
    ],
)
def test_open_access_refuses_other_sites(client: TestClient, headers: dict[str, str]) -> None:
    r = client.post(
        "/api/phrases/import", files={"file": ("x.jsonl", b'{"key": "x.1", "text": {"en": "hi"}}\n')}, headers=headers
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    assert client.post("/api/phrases", json=phrase("x.2"), headers=headers).status_code == 403
    assert client.get("/api/phrases").json()["count"] == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"host": "localhost:8000", "origin": "http://localhost:8000"},
        {"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"},
        {"host": "[::1]:8000"},
    ],
)
def test_open_access_serves_loopback(client: TestClient, headers: dict[str, str]) -> None:
    assert client.post("/api/phrases", json=phrase("ok.1"), headers=headers).status_code == 201


def test_open_access_websocket_from_another_site_is_closed(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers={"origin": "https://evil.example"}) as ws:
        hello = ws.receive_json()
        assert hello["auth"] == "required"
        err = ws.receive_json()
        assert err["type"] == "error" and err["code"] == "forbidden"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_allowed_hosts_setting(settings: Settings) -> None:
    s = settings.model_copy(update={"allowed_hosts": ["assist.internal"]})
    with TestClient(fake_app(s)) as c:
        headers = {"host": "assist.internal:8000", "origin": "http://assist.internal:8000"}
        assert c.post("/api/phrases", json=phrase("ok.2"), headers=headers).status_code == 201
