"""Suggestions that learn from agents, through /ws and REST (hashed encoder): feedback names the message it
answers, the ranking lifts what the team used for similar messages and says so in `reasons`, leads see and
reset it per phrase."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assist.auth import TokenStore
from assist.bank.store import PhraseStore
from assist.config import FeedbackSettings, Settings
from tests.fakes import fake_app
from tests.test_ws import frames_until
from tests.utils import phrase

MESSAGE = "我的快递怎么还没到，都一个星期了"
REPLIES = [
    "关于快递延误，我们马上为您催促物流。",
    "非常理解您等得着急，我这边立刻联系仓库。",
    "给您添麻烦了，今天之内给您回复具体到货时间。",
    "包裹的最新位置我帮您查一下，请稍等片刻。",
]


def _bank(client: TestClient) -> list[int]:
    ids = []
    for i in range(4):
        body = phrase(f"late.{i}", text={"zh-Hans": REPLIES[i]}, emotions=["frustration"])
        r = client.post("/api/phrases", json=body)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    assert client.app.state.bank_changes.settled()  # type: ignore[attr-defined]
    return ids


def _suggest(ws: Any, cid: str, text: str) -> dict[str, Any]:
    ws.send_json({"type": "message", "conversation_id": cid, "role": "customer", "text": text})
    return frames_until(ws, "suggestions")[-1]


def test_used_phrases_rise_for_similar_messages_and_say_so(client: TestClient) -> None:
    _bank(client)
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "conversation_id": "c1"})
        ws.receive_json()
        first = _suggest(ws, "c1", MESSAGE)
        items = first["items"]
        assert len(items) == 4
        assert all("learned" not in i["reasons"] for i in items)
        last = items[-1]["phrase_id"]  # the agent prefers the lowest-ranked one
        top = items[0]["phrase_id"]
        answered = [first["message_id"]]
        for tail in ("！", "？"):  # two more messages like it, each answered with the same phrase
            answered.append(_suggest(ws, "c1", MESSAGE + tail)["message_id"])
        for n, mid in enumerate(answered):
            ws.send_json(
                {"type": "feedback", "conversation_id": "c1", "phrase_id": last, "action": "used", "id": f"u{n}",
                 "message_id": mid}
            )  # fmt: skip
            frames_until(ws, "ack", ref=f"u{n}")
        ws.send_json(
            {"type": "feedback", "conversation_id": "c1", "phrase_id": last, "action": "used", "id": "again",
             "message_id": answered[0]}
        )  # fmt: skip
        frames_until(ws, "ack", ref="again")  # a repeated frame counts and teaches once
        ws.send_json({"type": "feedback", "conversation_id": "c1", "phrase_id": top, "action": "dismissed", "id": "d"})
        frames_until(ws, "ack", ref="d")  # no message_id (an older client): the latest customer message
        ws.send_json(
            {"type": "feedback", "conversation_id": "c1", "phrase_id": top, "action": "used", "id": "x",
             "message_id": "m999"}
        )  # fmt: skip
        frames_until(ws, "ack", ref="x")  # a message no longer held: counted, not learned from
        again = _suggest(ws, "c1", MESSAGE + "啊")["items"]
    assert again[0]["phrase_id"] == last, [(i["phrase_id"], i["score"], i["reasons"].get("learned")) for i in again]
    assert again[0]["reasons"]["learned"] == {"used": 3, "dismissed": 0}
    assert "used 3x for similar messages" in again[0]["why"]
    sunk = next(i for i in again if i["phrase_id"] == top)
    assert sunk["reasons"]["learned"] == {"used": 0, "dismissed": 1}
    # one ranking for several teams (the hub's): only the team whose agents chose it learns from it
    suggester = client.app.state.hub.pipeline.suggester  # type: ignore[attr-defined]
    analysis = suggester.analyzer.message_analysis(MESSAGE)
    both = suggester.for_teams(MESSAGE, analysis, [], [None, "sales"])
    assert both[None].items[0].phrase_id == last and both[None].items[0].reasons.learned.used == 3
    assert all(i.reasons.learned is None for i in both["sales"].items)
    seen = client.get(f"/api/phrases/{last}/learned").json()
    assert seen["used"] == 3 and seen["dismissed"] == 0 and seen["teams"][0]["team"] is None and seen["learning"]
    assert client.get(f"/api/phrases/{top}/learned").json()["dismissed"] == 1


def test_a_lead_resets_what_was_learned_and_ranking_forgets_it(client: TestClient) -> None:
    ids = _bank(client)
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "conversation_id": "c1"})
        ws.receive_json()
        items = _suggest(ws, "c1", MESSAGE)["items"]
        chosen = items[-1]["phrase_id"]
        ws.send_json({"type": "feedback", "conversation_id": "c1", "phrase_id": chosen, "action": "used", "id": "u"})
        frames_until(ws, "ack", ref="u")
        r = client.delete(f"/api/phrases/{chosen}/learned")
        assert r.status_code == 200 and r.json() == {"phrase_id": chosen, "removed": 1}
        after = _suggest(ws, "c1", MESSAGE + "啊")["items"]
    assert all("learned" not in i["reasons"] for i in after)
    assert client.get(f"/api/phrases/{chosen}/learned").json()["teams"] == []
    r = client.delete("/api/phrases/424242/learned")
    assert r.status_code == 404 and r.json()["code"] == "phrase_not_found"
    assert client.get("/api/phrases/424242/learned").status_code == 404
    assert len(ids) == 4


@pytest.fixture
def learning_off(settings: Settings) -> Iterator[TestClient]:
    off = settings.model_copy(update={"feedback": FeedbackSettings(learn=False)})
    with TestClient(fake_app(off)) as c:
        yield c


def test_learning_off_by_setting_records_but_does_not_rank(learning_off: TestClient) -> None:
    client = learning_off
    _bank(client)
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "subscribe", "conversation_id": "c1"})
        ws.receive_json()
        items = _suggest(ws, "c1", MESSAGE)["items"]
        last = items[-1]["phrase_id"]
        for n, tail in enumerate(("", "！", "？")):
            if n:  # each use answers another message (a repeated frame would count once)
                _suggest(ws, "c1", MESSAGE + tail)
            ws.send_json(
                {"type": "feedback", "conversation_id": "c1", "phrase_id": last, "action": "used", "id": f"{n}"}
            )
            frames_until(ws, "ack", ref=f"{n}")
        again = _suggest(ws, "c1", MESSAGE + "啊")["items"]
    assert again[-1]["phrase_id"] == last  # not lifted (with learning on it comes first: the test above)
    assert all("learned" not in i["reasons"] for i in again)
    body = client.get(f"/api/phrases/{last}/learned").json()
    assert body["used"] == 3 and body["learning"] is False


def test_learned_is_for_leads_only_and_per_team(settings: Settings) -> None:
    store = PhraseStore.connect(settings.sqlalchemy_url)
    tokens = TokenStore(store)
    lead, agent = tokens.create("lee", "lead")[1], tokens.create("ann", "agent", "support")[1]
    store.close()
    with TestClient(fake_app(settings)) as client:
        auth = {"Authorization": f"Bearer {lead}"}
        ids = []
        for i in range(3):
            body = phrase(f"late.{i}", text={"zh-Hans": REPLIES[i]}, emotions=["frustration"])
            ids.append(client.post("/api/phrases", json=body, headers=auth).json()["id"])
        assert client.app.state.bank_changes.settled()  # type: ignore[attr-defined]
        with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {agent}"}) as ws:
            ws.receive_json()
            ws.receive_json()  # authenticated
            ws.send_json({"type": "subscribe", "conversation_id": "c1"})
            ws.receive_json()
            client.post("/api/conversations/c1/messages", json={"role": "customer", "text": MESSAGE}, headers=auth)
            items = frames_until(ws, "suggestions")[-1]["items"]
            ws.send_json({"type": "feedback", "conversation_id": "c1", "phrase_id": items[-1]["phrase_id"],
                          "action": "used", "id": "u"})  # fmt: skip
            frames_until(ws, "ack", ref="u")
        pid = items[-1]["phrase_id"]
        r = client.get(f"/api/phrases/{pid}/learned", headers={"Authorization": f"Bearer {agent}"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        r = client.delete(f"/api/phrases/{pid}/learned", headers={"Authorization": f"Bearer {agent}"})
        assert r.status_code == 403
        teams = client.get(f"/api/phrases/{pid}/learned", headers=auth).json()["teams"]
        assert [(t["team"], t["used"]) for t in teams] == [("support", 1)]
        # a lead (no team) asking for suggestions does not see what the support team learned
        r = client.post("/api/suggest", json={"text": MESSAGE + "啊"}, headers=auth)
        assert all("learned" not in i["reasons"] for i in r.json()["items"])
        r = client.post("/api/suggest", json={"text": MESSAGE + "啊", "team": "support"}, headers=auth)
        item = next(i for i in r.json()["items"] if i["phrase_id"] == pid)
        assert item["reasons"]["learned"] == {"used": 1, "dismissed": 0}
