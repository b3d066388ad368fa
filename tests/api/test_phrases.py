"""REST /api/phrases: CRUD, versions, roles, import (every bad-input case), export round trips."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml
from fastapi.testclient import TestClient

from assist.auth import TokenStore
from assist.bank.store import PhraseStore
from assist.config import Settings
from tests.fakes import fake_app
from tests.utils import phrase


def _create(client: TestClient, key: str, **fields: object) -> dict:
    r = client.post("/api/phrases", json=phrase(key, **fields))
    assert r.status_code == 201, r.text
    return r.json()


def _upload(client: TestClient, name: str, data: bytes, **params: object):  # type: ignore[no-untyped-def]
    return client.post("/api/phrases/import", files={"file": (name, data)}, params=params)


# ---- CRUD and versions -----------------------------------------------------------------------


def test_create_phrase_defaults_to_draft_and_derives_traditional(client: TestClient) -> None:
    body = phrase("n.1")
    del body["status"]
    r = client.post("/api/phrases", json=body)
    assert r.status_code == 201
    p = r.json()
    assert p["status"] == "draft" and p["text"]["zh-Hant"] == "我們會為您處理好n.1。"
    assert client.get(f"/api/phrases/{p['id']}").json() == p


def test_create_phrase_rejects_unknown_labels_and_mismatched_placeholders(client: TestClient) -> None:
    r = client.post("/api/phrases", json=phrase("bad.1", emotions=["rage"]))
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert "unknown emotion 'rage'" in json.dumps(r.json(), ensure_ascii=False)
    r = client.post("/api/phrases", json=phrase("bad.2", text={"en": "Hi {customer_name}", "zh-Hans": "您好"}))
    assert r.status_code == 422 and "placeholders differ" in r.text


def test_create_phrase_rejects_oversize_text(client: TestClient) -> None:
    r = client.post("/api/phrases", json=phrase("big", text={"en": "x" * 1001}))
    assert r.status_code == 422 and "limit is 1000" in r.text


def test_phrase_examples_create_read_update_and_history(client: TestClient) -> None:
    p = _create(
        client, "x.1", examples={"en": ["  where is my parcel??  ", "where is my parcel??", ""], "zh-Hant": ["仲未到"]}
    )
    # stripped, repeats and empties dropped, languages in registry order
    assert p["examples"] == {"zh-Hant": ["仲未到"], "en": ["where is my parcel??"]}
    assert client.get(f"/api/phrases/{p['id']}").json()["examples"] == p["examples"]
    # a language's list replaces that language's examples; the others stay; [] removes a language
    r = client.patch(f"/api/phrases/{p['id']}", json={"version": 1, "examples": {"zh-Hans": ["快递呢", "到哪了"]}})
    assert r.status_code == 200 and r.json()["examples"] == {
        "zh-Hans": ["快递呢", "到哪了"],
        "zh-Hant": ["仲未到"],
        "en": ["where is my parcel??"],
    }
    r = client.patch(f"/api/phrases/{p['id']}", json={"version": 2, "examples": {"en": []}})
    assert r.json()["examples"] == {"zh-Hans": ["快递呢", "到哪了"], "zh-Hant": ["仲未到"]}
    same = client.patch(f"/api/phrases/{p['id']}", json={"version": 3, "examples": {"en": []}})
    assert same.json()["version"] == 3  # no change, no new version
    history = client.get(f"/api/phrases/{p['id']}/history").json()
    assert [h["after"]["examples"].get("en") for h in history] == [["where is my parcel??"]] * 2 + [None]
    assert history[1]["before"]["examples"] == {"zh-Hant": ["仲未到"], "en": ["where is my parcel??"]}


def test_phrase_examples_bad_input_is_refused(client: TestClient) -> None:
    r = client.post("/api/phrases", json=phrase("x.2", examples={"en": ["x" * 501]}))
    assert r.status_code == 422 and "limit is 500" in r.text
    r = client.post("/api/phrases", json=phrase("x.3", examples={"en": [f"message {i}" for i in range(41)]}))
    assert r.status_code == 422 and "limit is 40" in r.text
    r = client.post("/api/phrases", json=phrase("x.4", examples={"fr": ["bonjour"]}))
    assert r.status_code == 422 and "language code" in r.text
    r = client.post("/api/phrases", json=phrase("x.5", examples=["not", "a", "mapping"]))
    assert r.status_code == 422
    p = _create(client, "x.6")
    r = client.patch(f"/api/phrases/{p['id']}", json={"version": 1, "examples": {"en": "one string"}})
    assert r.status_code == 422


def test_update_phrase_with_stale_version_gets_409_with_current(client: TestClient) -> None:
    p = _create(client, "u.1")
    r = client.patch(f"/api/phrases/{p['id']}", json={"version": 1, "technique": "apology"})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = client.patch(f"/api/phrases/{p['id']}", json={"version": 1, "technique": "praise"})
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "version_conflict" and body["current_version"] == 2
    assert body["current"]["technique"] == "apology"


def test_update_phrase_requires_version(client: TestClient) -> None:
    p = _create(client, "u.2")
    r = client.patch(f"/api/phrases/{p['id']}", json={"technique": "apology"})
    assert r.status_code == 422


def test_status_change_delete_and_history(client: TestClient) -> None:
    p = _create(client, "s.1", status="draft")
    assert (
        client.post(f"/api/phrases/{p['id']}/status", json={"status": "approved", "version": 1}).json()["status"]
        == "approved"
    )
    r = client.delete(f"/api/phrases/{p['id']}")
    assert r.status_code == 200 and r.json()["status"] == "retired"
    history = client.get(f"/api/phrases/{p['id']}/history").json()
    assert [h["action"] for h in history] == ["create", "status", "delete"]
    assert history[1]["before"]["status"] == "draft" and history[1]["after"]["status"] == "approved"


def test_read_phrase_not_found(client: TestClient) -> None:
    r = client.get("/api/phrases/424242")
    assert r.status_code == 404 and r.json() == {"detail": "phrase 424242 not found", "code": "phrase_not_found"}


def test_read_phrases_filters_and_paginates(client: TestClient) -> None:
    for n in range(5):
        _create(client, f"l.{n}", emotions=["anger" if n % 2 else "anxiety"])
    r = client.get("/api/phrases", params={"emotion": "anger", "limit": 1, "offset": 1})
    assert r.json()["count"] == 2 and [p["key"] for p in r.json()["data"]] == ["l.3"]
    assert client.get("/api/phrases", params={"limit": 501}).status_code == 422


def test_usage_api(client: TestClient) -> None:
    p = _create(client, "use.1")
    for event in ("shown", "shown", "used"):
        assert client.post(f"/api/phrases/{p['id']}/usage", json={"event": event}).status_code == 204
    usage = client.get(f"/api/phrases/{p['id']}/usage").json()
    assert usage["totals"]["acceptance_rate"] == 0.5
    assert client.post(f"/api/phrases/{p['id']}/usage", json={"event": "clicked"}).status_code == 422
    assert client.get("/api/phrases/stats").json()["usage"]["shown"] == 2


# ---- roles -----------------------------------------------------------------------------------


@pytest.fixture
def secured(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A service with tokens configured: every call needs one."""
    store = PhraseStore.connect(settings.sqlalchemy_url)
    tokens = TokenStore(store)
    secrets = {
        "lead": tokens.create("lee", "lead")[1],
        "agent_sales": tokens.create("ann", "agent", "sales")[1],
        "agent": tokens.create("bob", "agent")[1],
        "integration": tokens.create("hook", "integration")[1],
    }
    revoked, secrets["revoked"] = tokens.create("old", "lead")
    tokens.revoke(revoked["id"])
    store.close()
    with TestClient(fake_app(settings)) as c:
        yield c, secrets


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_roles_tokens_are_required_once_configured(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = secured
    r = client.get("/api/phrases")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert client.get("/api/phrases", headers=_auth("aa_wrong")).status_code == 401
    assert client.get("/api/phrases", headers=_auth(secrets["revoked"])).status_code == 401
    assert client.get("/api/phrases", headers=_auth(secrets["lead"])).status_code == 200


def test_roles_only_leads_change_the_bank(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = secured
    for role in ("agent", "integration"):
        r = client.post("/api/phrases", json=phrase("r.1"), headers=_auth(secrets[role]))
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert client.get("/api/phrases/export", headers=_auth(secrets[role])).status_code == 403
    r = client.post("/api/phrases", json=phrase("r.1"), headers=_auth(secrets["lead"]))
    assert r.status_code == 201 and r.json()["created_by"] == "lee"


def test_roles_agents_read_approved_phrases_of_their_team(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = secured
    lead = _auth(secrets["lead"])
    ids = {}
    for key, fields in {
        "all": {},
        "sales": {"teams": ["sales"]},
        "support": {"teams": ["support"]},
        "draft": {"status": "draft"},
    }.items():
        ids[key] = client.post("/api/phrases", json=phrase(key, **fields), headers=lead).json()["id"]

    def visible(secret: str) -> list[str]:
        return [p["key"] for p in client.get("/api/phrases", headers=_auth(secret)).json()["data"]]

    assert visible(secrets["agent_sales"]) == ["all", "sales"]
    assert visible(secrets["agent"]) == ["all"]
    assert visible(secrets["lead"]) == ["all", "sales", "support", "draft"]
    # agents asking for drafts still see approved only
    r = client.get("/api/phrases", params={"status": "draft"}, headers=_auth(secrets["agent_sales"]))
    assert r.json()["count"] == 2
    assert client.get(f"/api/phrases/{ids['support']}", headers=_auth(secrets["agent_sales"])).status_code == 404
    assert client.get(f"/api/phrases/{ids['sales']}", headers=_auth(secrets["agent_sales"])).status_code == 200
    assert client.get(f"/api/phrases/{ids['all']}/history", headers=_auth(secrets["agent"])).status_code == 403


def test_roles_no_open_access_off_loopback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, data_dir=tmp_path, seed_phrasebank=False, host="0.0.0.0")  # type: ignore[call-arg]
    with TestClient(fake_app(settings)) as c:
        assert c.get("/api/phrases").status_code == 401


def test_tokens_are_stored_hashed(settings: Settings) -> None:
    store = PhraseStore.connect(settings.sqlalchemy_url)
    _, secret = TokenStore(store).create("x", "agent")
    raw = settings.sqlalchemy_url.split("///", 1)[1]
    store.close()
    with open(raw, "rb") as f:
        assert secret.encode() not in f.read()


# ---- import ----------------------------------------------------------------------------------

GOOD = [phrase("g.1", text={"zh-Hans": "您好{customer_name}", "en": "Hi {customer_name}"}), phrase("g.2")]


def test_import_yaml_then_dry_run_then_reimport(client: TestClient) -> None:
    data = yaml.safe_dump(GOOD, allow_unicode=True).encode()
    r = _upload(client, "bank.yml", data, dry_run=True)
    assert r.status_code == 200 and r.json()["created"] == 2 and r.json()["dry_run"]
    assert client.get("/api/phrases").json()["count"] == 0
    r = _upload(client, "bank.yml", data)
    assert r.json()["created"] == 2
    r = _upload(client, "bank.yml", data)
    assert (r.json()["created"], r.json()["unchanged"]) == (0, 2)


@pytest.mark.parametrize(
    ("name", "data", "encoding"),
    [
        ("bank.csv", "key,zh-Hans,en,situations\nc.1,您好,Hello,greeting|closing\n".encode(), "utf-8"),
        ("bank.csv", "key,zh-Hans,en,situations\nc.1,您好,Hello,greeting|closing\n".encode("utf-8-sig"), "utf-8-sig"),
        ("bank.csv", "key,zh-Hans,en,situations\r\nc.1,您好,Hello,greeting|closing\r\n".encode("gbk"), "gb18030"),
        ("bank.txt", "key\tzh-Hans\ten\tsituations\nc.1\t您好\tHello\tgreeting|closing\n".encode("utf-16"), "utf-16"),
    ],
    ids=["utf8", "utf8-bom", "excel-gbk", "excel-unicode-text"],
)
def test_import_csv_encodings(client: TestClient, name: str, data: bytes, encoding: str) -> None:
    r = _upload(client, name, data)
    assert r.status_code == 200, r.text
    assert r.json()["encoding"] == encoding
    p = client.get("/api/phrases").json()["data"][0]
    assert p["text"]["zh-Hans"] == "您好" and p["situations"] == ["greeting", "closing"]


def test_import_jsonl(client: TestClient) -> None:
    data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in GOOD).encode()
    r = _upload(client, "bank.jsonl", data)
    assert r.status_code == 200 and r.json()["created"] == 2


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("bad.yml", b"- key: a\n  text: {en: [unclosed\n", [{"line": 3, "key": None}]),
        ("bad.yml", b"key: a\ntext: {en: x}\n", [{"line": None}]),
        ("bad.jsonl", b'{"key": "a", "text": {"en": "x"}}\n{"key": "b", "text": \n', [{"line": 2}]),
        ("bad.csv", b"key,english\na,x\n", [{"line": 1}]),
        ("bad.csv", b"key,en\na,x,extra\n", [{"line": 2}]),
        ("bad.csv", b"\xff\xfe\xfd\x80\x80", [{"line": None}]),
    ],
    ids=["yaml-syntax", "yaml-not-a-list", "jsonl-syntax", "csv-unknown-column", "csv-extra-field", "not-text"],
)
def test_import_malformed_files_are_refused_whole(client: TestClient, name: str, data: bytes, expected: list) -> None:
    _create(client, "keep")
    r = _upload(client, name, data)
    assert r.status_code == 422 and r.json()["code"] == "import_invalid"
    errors = r.json()["errors"]
    assert len(errors) == len(expected)
    for got, want in zip(errors, expected, strict=True):
        assert {k: got[k] for k in want} == want and got["reason"]
    assert [p["key"] for p in client.get("/api/phrases").json()["data"]] == ["keep"]


def test_import_lists_every_bad_row_with_line_and_reason(client: TestClient) -> None:
    rows = [
        phrase("ok.1"),
        phrase("bad.emotion", emotions=["rage"]),
        {"key": "bad.notext", "situations": ["delay"]},
        phrase("ok.1"),
        phrase("bad.big", text={"en": "y" * 5000}),
        phrase("bad.type", customer_types=["temperament:grumpy"]),
        phrase("BAD KEY"),
        {"key": "bad.field", "text": {"en": "x"}, "colour": "blue"},
    ]
    data = yaml.safe_dump(rows, allow_unicode=True, width=10_000).encode()
    r = _upload(client, "bank.yaml", data)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [e["key"] for e in errors] == [
        "bad.emotion",
        "bad.notext",
        "ok.1",
        "bad.big",
        "bad.type",
        "BAD KEY",
        "bad.field",
    ]
    lines = yaml.safe_dump(rows, allow_unicode=True, width=10_000).splitlines()
    for e in errors:  # each reported line is the line where that row starts
        assert lines[e["line"] - 1].startswith("- ")
    reasons = " | ".join(e["reason"] for e in errors)
    for fragment in (
        "unknown emotion 'rage'",
        "text: Field required",
        "duplicate key 'ok.1' (first on line 1)",
        "limit is 1000",
        "unknown customer type",
        "key: String should match pattern",
        "colour: Extra inputs are not permitted",
    ):
        assert fragment in reasons
    assert client.get("/api/phrases").json()["count"] == 0


def test_import_oversize_file_is_refused(client: TestClient, settings: Settings) -> None:
    settings.max_import_bytes = 1000
    r = _upload(client, "bank.jsonl", b"{}\n" * 400)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_import_needs_a_known_format(client: TestClient) -> None:
    r = _upload(client, "bank.xlsx", b"PK\x03\x04")
    assert r.status_code == 422 and "format" in r.json()["detail"]


def test_import_empty_file_imports_nothing(client: TestClient) -> None:
    r = _upload(client, "bank.yml", b"")
    assert r.status_code == 200 and r.json()["created"] == 0


# ---- export round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "csv", "jsonl"])
def test_export_import_round_trips_exactly(client: TestClient, settings: Settings, tmp_path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    _create(
        client,
        "e.1",
        text={"zh-Hans": "您好，{customer_name}！", "en": 'Hi, "{customer_name}",\nwelcome'},
        teams=["sales", "vip"],
        source={"seed": "000_a540afc72405a1c2.txt", "principle": "合一架构法"},
    )
    _create(
        client,
        "e.2",
        text={"zh-Hant": "您好，請稍候"},
        status="draft",
        customer_types=[],
        emotions=["neutral"],
        examples={"zh-Hant": ["喂，有冇人呀", "你好 | 想問嘢"], "en": ['hello?? "anyone" there, ok']},
    )
    _create(client, "e.3", text={"en": "Thanks | bye"}, technique=None, situations=[], status="retired")
    exported = client.get("/api/phrases/export", params={"format": fmt})
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]

    other = Settings(_env_file=None, data_dir=tmp_path / "other", seed_phrasebank=False)  # type: ignore[call-arg]
    with TestClient(fake_app(other)) as fresh:
        r = _upload(fresh, f"bank.{fmt}", exported.content)
        assert r.status_code == 200 and r.json()["created"] == 3, r.text
        again = fresh.get("/api/phrases/export", params={"format": fmt})
        assert again.content == exported.content
        keep = (
            "key",
            "text",
            "examples",
            "situations",
            "emotions",
            "customer_types",
            "technique",
            "teams",
            "status",
            "source",
        )
        a = [{k: p[k] for k in keep} for p in client.get("/api/phrases").json()["data"]]
        b = [{k: p[k] for k in keep} for p in fresh.get("/api/phrases").json()["data"]]
        assert a == b
    assert _upload(client, f"bank.{fmt}", exported.content).json()["unchanged"] == 3


@pytest.mark.slow  # seeds the whole shipped bank, twice
def test_shipped_bank_loads_on_first_start_and_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    with TestClient(fake_app(settings)) as c:
        count = c.get("/api/phrases", params={"limit": 1}).json()["count"]
        assert count >= 300
        first = c.get("/api/phrases", params={"limit": 1}).json()["data"][0]
        c.patch(f"/api/phrases/{first['id']}", json={"version": first["version"], "text": {"en": "Lead's words"}})
    with TestClient(fake_app(settings)) as c:
        assert c.get("/api/phrases", params={"limit": 1}).json()["count"] == count
        assert c.get(f"/api/phrases/{first['id']}").json()["text"]["en"] == "Lead's words"
