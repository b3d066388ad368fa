"""GuardStore: CRUD with versions, history, import by key (all or nothing), shipped defaults, listeners."""

from __future__ import annotations

import pytest

from assist.errors import Conflict, InvalidInput, VersionConflict
from assist.guard import io
from assist.guard.schema import GuardRuleIn
from assist.guard.shipped import load_shipped
from assist.guard.store import GuardRuleNotFound, GuardStore

RUDE = {"key": "t.rude", "category": "rude", "severity": "block", "phrases": ["滚"], "why": "不能骂人"}


def test_create_update_retire_with_history(guard_store: GuardStore) -> None:
    changes: list[int] = []
    guard_store.on_change(lambda: changes.append(1))
    r = guard_store.create(GuardRuleIn.model_validate(RUDE), "lee")
    assert r["version"] == 1 and r["status"] == "active" and r["kind"] == "forbidden"
    r2 = guard_store.update(r["id"], {"phrases": ["滚", "滚蛋"], "exceptions": ["滚动"]}, 1, "lee")
    assert r2["version"] == 2 and r2["exceptions"] == ["滚动"]
    with pytest.raises(VersionConflict):
        guard_store.update(r["id"], {"severity": "warn"}, 1, "lee")
    with pytest.raises(InvalidInput, match="contains none"):
        guard_store.update(r["id"], {"exceptions": ["翻转"]}, 2, "lee")
    assert guard_store.update(r["id"], {"severity": "block"}, 2, "lee")["version"] == 2  # unchanged: no new version
    gone = guard_store.retire(r["id"], 2, "ann")
    assert gone["status"] == "retired" and guard_store.active() == []
    history = guard_store.history(r["id"])
    assert [h["action"] for h in history] == ["create", "update", "delete"]
    assert history[1]["before"]["phrases"] == ["滚"] and history[1]["after"]["phrases"] == ["滚", "滚蛋"]
    assert history[2]["actor"] == "ann"
    assert len(changes) == 3
    with pytest.raises(Conflict):
        guard_store.create(GuardRuleIn.model_validate(RUDE), "lee")
    with pytest.raises(GuardRuleNotFound):
        guard_store.get(9999)


def test_seed_adds_new_keys_only(guard_store: GuardStore) -> None:
    shipped = load_shipped()
    assert guard_store.seed(shipped) == len(shipped)
    first = guard_store.list(q="zh.rude.insult")[0]
    guard_store.update(first["id"], {"severity": "warn"}, first["version"], "lee")
    assert guard_store.seed(shipped) == 0
    assert guard_store.get(first["id"])["severity"] == "warn"  # a lead's change survives a restart


@pytest.mark.parametrize("fmt", ["yaml", "csv", "jsonl"])
def test_export_import_round_trip(guard_store: GuardStore, fmt: str) -> None:
    guard_store.seed(load_shipped())
    before = guard_store.entries()
    text = io.dump(before, fmt)
    parsed = io.parse(text.encode("utf-8"), fmt)
    assert parsed.errors == []
    assert [e.model_dump(mode="json") for e in parsed.entries] == before
    report = guard_store.import_entries(parsed.entries, "lee")
    assert report.created == [] and report.updated == [] and len(report.unchanged) == len(before)


def test_import_is_all_or_nothing_and_dry_run(guard_store: GuardStore) -> None:
    bad = b"- {key: a, category: rude, phrases: [x], why: w}\n- {key: b, category: rude, phrases: [], why: w}\n"
    parsed = io.parse(bad, "yaml")
    assert [(e.line, e.key) for e in parsed.errors] == [(2, "b")]
    good = io.parse(b"- {key: a, category: rude, phrases: [x], why: w}\n", "yaml")
    assert guard_store.import_entries(good.entries, "lee", dry_run=True).created == ["a"]
    assert guard_store.entries() == []
    csv = "key,category,phrases,why,teams\r\nc,rude,滚|滚蛋,不能骂人,sales|support\r\n".encode("gb18030")
    parsed = io.parse(csv, "csv")
    assert parsed.encoding == "gb18030" and parsed.entries[0].phrases == ["滚", "滚蛋"]
    assert parsed.entries[0].teams == ["sales", "support"]
    unknown = io.parse(b"key,word\r\nx,y\r\n", "csv")
    assert "unknown CSV column" in unknown.errors[0].reason
