"""Issue 17, item 2: team scoping has no size limit, and no stored row can stop start-up."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from assist.config import Settings
from tests.fakes import fake_app
from tests.utils import phrase


def test_a_phrase_with_many_teams_is_saved_and_searchable(settings: Settings) -> None:
    teams = [f"team-{i}" for i in range(100)]
    with TestClient(fake_app(settings)) as c:
        r = c.post("/api/phrases", json=phrase("many.teams", teams=teams))
        assert r.status_code == 201, r.text
        c.app.state.bank_changes.settled()  # type: ignore[attr-defined]
    with TestClient(fake_app(settings)) as c:  # a restart over the same store
        assert c.get("/api/health").status_code == 200


def test_bank_grows_past_63_teams(settings: Settings) -> None:
    with TestClient(fake_app(settings)) as c:
        for i in range(70):
            r = c.post("/api/phrases", json=phrase(f"t.{i}", teams=[f"team-{i}"]))
            assert r.status_code == 201, r.text
    with TestClient(fake_app(settings)) as c:
        assert c.get("/api/health").status_code == 200
        assert "t.69" in _suggest_keys(c, "team-69")
        assert "t.69" not in _suggest_keys(c, "team-68")


def _suggest_keys(c: TestClient, team: str) -> set[str]:
    from assist.retrieval.query import Query

    searcher = c.app.state.services.suggester.searcher  # type: ignore[attr-defined]
    hits = searcher.search(Query(text="We will take care of it for you", lang="en", team=team, k=100))
    return {h.phrase["key"] for h in hits}


def test_a_bad_stored_row_is_skipped_with_a_warning(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(fake_app(settings)) as c:
        good = c.post("/api/phrases", json=phrase("good.1")).json()
        bad = c.post("/api/phrases", json=phrase("bad.1")).json()
        store = c.app.state.services.store  # type: ignore[attr-defined]
        with store.session() as s:  # a row no current code writes: an unknown tag kind
            s.execute(
                text("INSERT INTO phrase_tags (phrase_id, kind, value) VALUES (:id, 'bogus', 'x')"),
                {"id": bad["id"]},
            )
    caplog.set_level(logging.WARNING)
    with TestClient(fake_app(settings)) as c:
        health = c.get("/api/health").json()
        assert health["status"] == "degraded"
        assert [s["id"] for s in health["skipped_phrases"]] == [bad["id"]]
        searcher = c.app.state.services.suggester.searcher  # type: ignore[attr-defined]
        assert len(searcher) == 1
        assert c.get(f"/api/phrases/{good['id']}").status_code == 200
        listed = c.get("/api/phrases").json()
        assert listed["count"] == 2 and [p["id"] for p in listed["data"]] == [good["id"]]
        assert 'id="skipped"' in c.get("/console").text  # the console names them (static/js/console.js)
        assert "skipped_phrases" in c.get("/static/js/console.js").text
    assert any(f"phrase {bad['id']}" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


@pytest.mark.parametrize("teams", [["x" * 65], [""], [" "]])
def test_bad_team_lists_are_4xx(client: TestClient, teams: list[str]) -> None:
    r = client.post("/api/phrases", json=phrase("bad.team", teams=teams))
    assert r.status_code == 422, r.text
