"""Issue 17, items 11 and 14: absurd numbers, NUL bytes, lone surrogates, deep nesting and odd webhook shapes
get a clear 4xx (REST) or an `error` frame (websocket), never a 500 and never an echo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assist.config import Settings
from tests.fakes import fake_app
from tests.utils import phrase

BIG = [2**31, 2**63, 2**64, 10**30]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    url = None if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    settings = Settings(_env_file=None, data_dir=tmp_path, seed_phrasebank=False, database_url=url)  # type: ignore[call-arg]
    with TestClient(fake_app(settings)) as c:
        yield c


def _is_4xx(r: object) -> None:
    status = r.status_code  # type: ignore[attr-defined]
    assert 400 <= status < 500, (status, r.text)  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert isinstance(body.get("code"), str) and body.get("detail")


def _post_json(c: TestClient, url: str, body: object) -> object:
    """POST JSON with \\u escapes, so lone surrogates travel as a client would send them."""
    return c.post(url, content=json.dumps(body), headers={"content-type": "application/json"})


# ---- item 11: timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize("t", ["Infinity", "-Infinity", "NaN", "1e300", "-5"])
def test_rest_message_refuses_absurd_timestamps(client: TestClient, t: str) -> None:
    body = '{"role": "customer", "text": "hello", "t": ' + t + "}"
    r = client.post("/api/conversations/c1/messages", content=body, headers={"content-type": "application/json"})
    _is_4xx(r)
    assert "Infinity" not in r.text and "NaN" not in r.text.replace("nan", "")


@pytest.mark.parametrize("t", ["Infinity", "NaN", "1e300"])
def test_rest_analyze_refuses_absurd_timestamps(client: TestClient, t: str) -> None:
    body = '{"conversation": [{"role": "customer", "text": "hello", "t": ' + t + "}]}"
    r = client.post("/api/analyze", content=body, headers={"content-type": "application/json"})
    _is_4xx(r)


@pytest.mark.parametrize("t", ["Infinity", "-Infinity", "NaN", "1e300"])
def test_ws_message_refuses_absurd_timestamps(client: TestClient, t: str) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_text(
            '{"type": "message", "id": "m1", "conversation_id": "c1", "role": "customer", "text": "hello", "t": '
            + t
            + "}"
        )
        err = ws.receive_json()
        assert err["type"] == "error" and err["code"] == "invalid_frame" and err["ref"] == "m1"
        assert "t:" in err["detail"]
        ws.send_json({"type": "ping", "id": "p"})
        assert ws.receive_json()["type"] == "pong"


def test_chatwoot_refuses_absurd_created_at(client: TestClient) -> None:
    body = (
        '{"event": "message_created", "message_type": "incoming", "content": "hi", "id": 1, '
        '"conversation": {"id": 7}, "created_at": Infinity}'
    )
    r = client.post("/api/integrations/chatwoot", content=body, headers={"content-type": "application/json"})
    _is_4xx(r)


# ---- item 14: big ids and offsets, NUL, surrogates, nesting, webhook shapes ---------------------------


@pytest.mark.parametrize("n", BIG)
def test_big_ids_and_offsets_are_4xx(any_client: TestClient, n: int) -> None:
    c = any_client
    for r in (
        c.get(f"/api/phrases/{n}"),
        c.get(f"/api/phrases/{n}/history"),
        c.get(f"/api/phrases/{n}/usage"),
        c.patch(f"/api/phrases/{n}", json={"version": 1, "technique": "apology"}),
        c.post(f"/api/phrases/{n}/status", json={"status": "approved", "version": n}),
        c.delete(f"/api/phrases/{n}"),
        c.post(f"/api/phrases/{n}/usage", json={"event": "shown"}),
        c.get("/api/phrases", params={"offset": n}),
    ):
        _is_4xx(r)


def test_big_version_on_an_existing_phrase_is_4xx(any_client: TestClient) -> None:
    p = any_client.post("/api/phrases", json=phrase("v.1")).json()
    _is_4xx(any_client.patch(f"/api/phrases/{p['id']}", json={"version": 2**63, "technique": "apology"}))


@pytest.mark.parametrize(
    "fields",
    [
        {"text": {"en": "hello\x00world"}},
        {"teams": ["a\x00b"]},
        {"source": {"seed": "s\x00", "principle": "p"}},
        {"text": {"en": "hello \ud800 world"}},
        {"teams": ["\udfff"]},
    ],
)
def test_nul_and_lone_surrogates_in_a_phrase_are_4xx(any_client: TestClient, fields: dict[str, object]) -> None:
    _is_4xx(_post_json(any_client, "/api/phrases", phrase("nul.1", **fields)))
    assert any_client.get("/api/phrases").json()["count"] == 0


def test_nul_and_surrogates_in_an_update_are_4xx(any_client: TestClient) -> None:
    p = any_client.post("/api/phrases", json=phrase("nul.2")).json()
    _is_4xx(any_client.patch(f"/api/phrases/{p['id']}", json={"version": 1, "text": {"en": "a\x00"}}))
    r = any_client.patch(
        f"/api/phrases/{p['id']}",
        content=json.dumps({"version": 1, "teams": ["\ud800"]}),
        headers={"content-type": "application/json"},
    )
    _is_4xx(r)


@pytest.mark.parametrize("param", ["q", "team"])
@pytest.mark.parametrize("value", ["a\x00b"])
def test_nul_in_query_parameters_is_4xx(any_client: TestClient, param: str, value: str) -> None:
    _is_4xx(any_client.get("/api/phrases", params={param: value}))


def test_deeply_nested_yaml_import_is_4xx(client: TestClient) -> None:
    for data in (b"[" * 50_000, b"- " * 20_000 + b"x", b"a: " * 20_000 + b"x"):
        r = client.post("/api/phrases/import", files={"file": ("deep.yaml", data)})
        _is_4xx(r)


def test_jsonl_import_with_a_lone_surrogate_names_the_row(client: TestClient) -> None:
    good = '{"key": "j.1", "text": {"en": "fine"}}'
    bad = '{"key": "j.2", "text": {"en": "cut \\ud83d here"}}'
    r = client.post("/api/phrases/import", files={"file": ("x.jsonl", (good + "\n" + bad + "\n").encode())})
    _is_4xx(r)
    assert [e["line"] for e in r.json()["errors"]] == [2]


@pytest.mark.parametrize("account", [5, "acme", [1], True])
def test_chatwoot_account_not_an_object_is_4xx(client: TestClient, account: object) -> None:
    body = {
        "event": "message_created",
        "message_type": "incoming",
        "content": "hi",
        "id": 1,
        "conversation": {"id": 7},
        "account": account,
    }
    _is_4xx(client.post("/api/integrations/chatwoot", json=body))


@pytest.mark.parametrize("conversation", [5, "x", [1]])
def test_chatwoot_conversation_not_an_object_is_4xx_or_refused(client: TestClient, conversation: object) -> None:
    body = {"event": "message_created", "message_type": "incoming", "content": "hi", "conversation": conversation}
    r = client.post("/api/integrations/chatwoot", json=body)
    assert r.status_code < 500, r.text


@pytest.mark.parametrize("phrase_id", [2**31, 2**63, 2**64])
def test_ws_feedback_with_a_big_phrase_id_is_an_error_frame(client: TestClient, phrase_id: int) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "feedback", "id": "f", "conversation_id": "c1", "phrase_id": phrase_id, "action": "used"})
        err = ws.receive_json()
        assert err["type"] == "error" and err["code"] == "invalid_frame", err
