"""POST /api/check and /api/guard/rules through the app: hits, must-say over the conversation, flags with bank
phrases, roles, import/export, and rule changes applying at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assist.auth import TokenStore
from assist.bank.store import PhraseStore
from assist.config import Settings
from tests.fakes import fake_app


def test_check_blocks_a_forbidden_expression_and_rewrites(client: TestClient) -> None:
    r = client.post("/api/check", json={"text": "您好，你是不是傻？这不归我管。"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"allowed", "hits", "rewrite"}
    assert body["allowed"] is False
    hits = {(h["rule"], h["kind"], h["severity"], h["text"]) for h in body["hits"]}
    assert ("zh.rude.insult", "forbidden", "block", "你是不是傻") in hits
    assert ("zh.buck.not_mine", "forbidden", "warn", "不归我管") in hits
    for h in body["hits"]:
        assert set(h) == {"kind", "category", "severity", "start", "end", "text", "why", "rule", "phrases"}
        assert body["rewrite"]["original"][h["start"] : h["end"]] == h["text"]
    assert body["rewrite"]["lang"] == "zh-Hans" and body["rewrite"]["original"] == "您好，你是不是傻？这不归我管。"


def test_check_warn_only_is_allowed_and_clean_draft_has_no_hits(client: TestClient) -> None:
    body = client.post("/api/check", json={"text": "這個不是我負責的。"}).json()
    assert body["allowed"] is True and [h["rule"] for h in body["hits"]] == ["zh.buck.not_mine"]
    body = client.post("/api/check", json={"text": "Thanks for waiting, your order shipped today."}).json()
    assert body == {**body, "allowed": True, "hits": []}


def test_check_must_say_reads_the_conversation(client: TestClient) -> None:
    client.post("/api/conversations/g-1/messages", json={"role": "customer", "text": "我的快递到哪了？"})
    first = client.post("/api/check", json={"text": "订单已经发出了。", "conversation_id": "g-1"}).json()
    assert [h["rule"] for h in first["hits"]] == ["zh.must.greeting"]
    assert first["hits"][0]["phrases"] and first["allowed"] is True
    client.post("/api/conversations/g-1/messages", json={"role": "agent", "text": "您好，请稍等。"})
    later = client.post("/api/check", json={"text": "订单已经发出了。", "conversation_id": "g-1"}).json()
    assert later["hits"] == []
    unknown = client.post("/api/check", json={"text": "订单已经发出了。", "conversation_id": "nope"}).json()
    assert unknown["hits"] == []  # a conversation the hub does not hold: no history checks
    closing = client.post("/api/check", json={"text": "好的，再见。", "conversation_id": "g-1"}).json()
    assert [(h["rule"], h["text"]) for h in closing["hits"]] == [("zh.must.closing_thanks", "再见")]


def test_check_bad_input(client: TestClient) -> None:
    assert client.post("/api/check", json={}).status_code == 422
    assert client.post("/api/check", json={"text": "x", "conversation_id": "bad id!"}).status_code == 422
    assert client.post("/api/check", json={"text": "x", "lang": "xx"}).status_code == 422
    assert client.post("/api/check", json={"text": "x", "extra": 1}).status_code == 422
    assert client.post("/api/check", json={"text": "x" * 200_001}).status_code == 422
    body = client.post("/api/check", json={"text": ""}).json()
    assert body["allowed"] is True and body["hits"] == []


def test_flags_carry_bank_phrases_for_the_situation(client: TestClient) -> None:
    for key, text in [
        ("pol-1", "我理解您的心情，这项规定是为了保障每位顾客的权益，我们可以为您申请换货。"),
        ("pol-2", "规定的原因是保障交易安全，我们一起来看看还有什么办法。"),
        ("pol-3", "我们的退货规定是这样的，同时我可以为您申请优惠券作为补偿。"),
    ]:
        r = client.post(
            "/api/phrases",
            json={"key": key, "text": {"zh-Hans": text}, "situations": ["policy"], "status": "approved"},
        )
        assert r.status_code == 201
    assert client.app.state.bank_changes.settled()  # type: ignore[attr-defined]
    for route in ("/api/check", "/api/rewrite"):
        body = client.post(route, json={"text": "我們規定就是這樣，沒辦法退。"}).json()
        rewrite = body["rewrite"] if route == "/api/check" else body
        assert not rewrite["changed"] and rewrite["flags"]
        for flag in rewrite["flags"]:
            assert flag["situation"] == "policy"
            assert 2 <= len(flag["phrases"]) <= 3
            assert {p["key"] for p in flag["phrases"]} <= {"pol-1", "pol-2", "pol-3"}
            assert all("規定" in p["text"] for p in flag["phrases"])  # the draft's script


def test_rules_crud_applies_at_once_and_keeps_history(client: TestClient) -> None:
    rules = client.get("/api/guard/rules").json()
    assert {"zh.rude.insult", "en.must.greeting"} <= {r["key"] for r in rules}
    r = client.post(
        "/api/guard/rules",
        json={
            "key": "t.secret",
            "category": "disclosure",
            "severity": "block",
            "phrases": ["内部价"],
            "why": "不能透露内部价格",
        },
    )
    assert r.status_code == 201
    rule = r.json()
    body = client.post("/api/check", json={"text": "您好，内部價是 99 元。"}).json()
    assert body["allowed"] is False and [h["rule"] for h in body["hits"]] == ["t.secret"]
    stale = client.patch(f"/api/guard/rules/{rule['id']}", json={"version": 0, "severity": "warn"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 1
    ok = client.patch(f"/api/guard/rules/{rule['id']}", json={"version": 1, "severity": "warn"})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert client.post("/api/check", json={"text": "您好，内部价是 99 元。"}).json()["allowed"] is True
    bad = client.patch(f"/api/guard/rules/{rule['id']}", json={"version": 2, "when": "closing"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    gone = client.delete(f"/api/guard/rules/{rule['id']}", params={"version": 2})
    assert gone.json()["status"] == "retired"
    assert client.post("/api/check", json={"text": "您好，内部价是 99 元。"}).json()["hits"] == []
    history = client.get(f"/api/guard/rules/{rule['id']}/history").json()
    assert [h["action"] for h in history] == ["create", "update", "delete"]
    assert client.get("/api/guard/rules/99999").json()["code"] == "guard_rule_not_found"
    assert client.post("/api/guard/rules", json={"category": "x", "phrases": [], "why": "w"}).status_code == 422


@pytest.mark.parametrize("fmt", ["yaml", "csv", "jsonl"])
def test_rules_export_import(client: TestClient, fmt: str) -> None:
    exported = client.get("/api/guard/export", params={"format": fmt})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    files = {"file": (f"guard.{'yml' if fmt == 'yaml' else fmt}", exported.content)}
    report = client.post("/api/guard/import", files=files).json()
    assert report["created"] == 0 and report["updated"] == 0 and report["unchanged"] > 10
    bad = client.post("/api/guard/import", files={"file": ("g.yml", b"- {key: a, category: x, phrases: []}\n")})
    assert bad.status_code == 422 and bad.json()["code"] == "import_invalid" and bad.json()["errors"][0]["line"] == 1


@pytest.fixture
def secured(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = PhraseStore.connect(settings.sqlalchemy_url)
    tokens = TokenStore(store)
    secrets = {
        "lead": tokens.create("lee", "lead")[1],
        "agent_finance": tokens.create("ann", "agent", "finance")[1],
        "agent": tokens.create("bob", "agent")[1],
        "integration": tokens.create("hook", "integration")[1],
        "hook_sales": tokens.create("hook-sales", "integration", "sales")[1],
        "agent_sales": tokens.create("sam", "agent", "sales")[1],
    }
    store.close()
    with TestClient(fake_app(settings)) as c:
        yield c, secrets


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_roles_leads_manage_rules_every_role_checks_with_its_team(
    secured: tuple[TestClient, dict[str, str]],
) -> None:
    client, s = secured
    for who in ("agent", "integration"):
        assert client.get("/api/guard/rules", headers=_auth(s[who])).status_code == 403
        assert client.get("/api/guard/export", headers=_auth(s[who])).status_code == 403
    rule = {
        "key": "fin.rate",
        "category": "promise",
        "severity": "block",
        "phrases": ["保本"],
        "teams": ["finance"],
        "why": "理财产品不能说保本",
    }
    assert client.post("/api/guard/rules", json=rule, headers=_auth(s["agent"])).status_code == 403
    assert client.post("/api/guard/rules", json=rule, headers=_auth(s["lead"])).status_code == 201
    draft = {"text": "您好，这款产品保本。"}
    assert client.post("/api/check", json=draft, headers=_auth(s["agent_finance"])).json()["allowed"] is False
    assert client.post("/api/check", json=draft, headers=_auth(s["agent"])).json()["allowed"] is True
    other = client.post("/api/check", json={**draft, "team": "finance"}, headers=_auth(s["agent"]))
    assert other.status_code == 403
    as_team = client.post("/api/check", json={**draft, "team": "finance"}, headers=_auth(s["integration"]))
    assert as_team.json()["allowed"] is False
    assert client.post("/api/check", json=draft).status_code == 401


def test_check_reads_only_conversations_the_caller_may_see(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, s = secured
    fed = client.post(
        "/api/conversations/own-1/messages",
        json={"role": "customer", "text": "我的快递呢？"},
        headers=_auth(s["hook_sales"]),
    )
    assert fed.status_code == 200
    draft = {"text": "订单已经发出了。", "conversation_id": "own-1"}
    mine = client.post("/api/check", json=draft, headers=_auth(s["agent_sales"]))
    assert [h["rule"] for h in mine.json()["hits"]] == ["zh.must.greeting"]
    other = client.post("/api/check", json=draft, headers=_auth(s["agent_finance"]))
    assert other.status_code == 403 and other.json()["code"] == "forbidden"
