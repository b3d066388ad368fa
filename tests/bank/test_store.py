"""PhraseStore on SQLite and PostgreSQL: CRUD, derivation, history, versions, filters, import, seeding, usage."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseFilter, PhraseStore
from assist.bank.usage import UsageStore
from assist.errors import Conflict, InvalidInput, PhraseNotFound, VersionConflict
from tests.utils import phrase


def _in(key: str, **fields: object) -> PhraseIn:
    return PhraseIn.model_validate(phrase(key, **fields))


def test_store_create_derives_traditional(store: PhraseStore) -> None:
    p = store.create(_in("a.1", text={"zh-Hans": "我会为您查询后尽快回复", "en": "I'll look into it."}), "lead")
    assert p["text"]["zh-Hant"] == "我會為您查詢後儘快回覆"
    assert p["derived"] == ["zh-Hant"]
    assert p["version"] == 1 and p["created_by"] == "lead"
    assert store.get(p["id"])["text"] == p["text"]


def test_store_given_traditional_is_kept_and_simplified_derived(store: PhraseStore) -> None:
    p = store.create(_in("a.2", text={"zh-Hant": "您好，請問有什麼可以幫您？"}), "lead")
    assert p["text"] == {"zh-Hans": "您好，请问有什么可以帮您？", "zh-Hant": "您好，請問有什麼可以幫您？"}
    assert p["derived"] == ["zh-Hans"]


def test_store_edit_of_simplified_rederives_traditional(store: PhraseStore) -> None:
    p = store.create(_in("a.3"), "lead")
    q = store.update(p["id"], {"text": {"zh-Hans": "请您稍等"}}, p["version"], "lead")
    assert q["text"]["zh-Hant"] == "請您稍等"
    assert q["text"]["en"] == p["text"]["en"]  # other languages kept
    assert q["version"] == 2


def test_store_duplicate_key_is_a_conflict(store: PhraseStore) -> None:
    store.create(_in("dup"), "lead")
    with pytest.raises(Conflict):
        store.create(_in("dup"), "lead")


def test_store_stale_update_is_refused_with_current_version(store: PhraseStore) -> None:
    p = store.create(_in("v.1"), "lead")
    store.update(p["id"], {"emotions": ["anger"]}, 1, "alice")
    with pytest.raises(VersionConflict) as info:
        store.update(p["id"], {"emotions": ["confusion"]}, 1, "bob")
    assert info.value.extra["current_version"] == 2
    assert store.get(p["id"])["emotions"] == ["anger"]  # alice's edit is not lost


def test_store_concurrent_updates_one_wins_nothing_lost(store: PhraseStore) -> None:
    p = store.create(_in("v.2"), "lead")
    results: list[str] = []
    barrier = threading.Barrier(4)

    def edit(n: int) -> None:
        barrier.wait()
        try:
            store.update(p["id"], {"text": {"en": f"edit {n}"}}, 1, f"lead{n}")
            results.append("ok")
        except (VersionConflict, Conflict):
            results.append("conflict")

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 3 + ["ok"]
    final = store.get(p["id"])
    assert final["version"] == 2
    history = store.history(p["id"])
    assert [h["action"] for h in history] == ["create", "update"]
    assert history[-1]["after"]["text"]["en"] == final["text"]["en"]


def test_store_history_records_every_change(store: PhraseStore) -> None:
    p = store.create(_in("h.1", status="draft"), "ann")
    store.update(p["id"], {"technique": "apology"}, 1, "ann")
    store.set_status(p["id"], "approved", 2, "lee")
    store.retire(p["id"], None, "lee")
    history = store.history(p["id"])
    assert [(h["action"], h["actor"], h["version"]) for h in history] == [
        ("create", "ann", 1),
        ("update", "ann", 2),
        ("status", "lee", 3),
        ("delete", "lee", 4),
    ]
    assert history[1]["before"]["technique"] == "expectation_setting"
    assert history[1]["after"]["technique"] == "apology"
    assert history[3]["after"]["status"] == "retired"
    assert store.get(p["id"])["status"] == "retired"  # soft delete keeps the phrase


def test_store_update_that_changes_nothing_writes_no_history(store: PhraseStore) -> None:
    p = store.create(_in("h.2"), "ann")
    q = store.update(p["id"], {"technique": "expectation_setting"}, 1, "ann")
    assert q["version"] == 1 and len(store.history(p["id"])) == 1


def test_store_update_with_invalid_label_is_refused(store: PhraseStore) -> None:
    p = store.create(_in("h.3"), "ann")
    with pytest.raises(InvalidInput, match="unknown emotion"):
        store.update(p["id"], {"emotions": ["rage"]}, 1, "ann")
    assert store.get(p["id"])["version"] == 1


def test_store_missing_phrase(store: PhraseStore) -> None:
    with pytest.raises(PhraseNotFound):
        store.get(999)
    with pytest.raises(PhraseNotFound):
        store.update(999, {}, 1, "x")


@pytest.fixture
def filled(store: PhraseStore) -> PhraseStore:
    store.create(_in("f.1", situations=["delay"], emotions=["anger"], text={"en": "Sorry for the wait"}), "l")
    store.create(_in("f.2", situations=["price"], customer_types=["price_attitude:haggler"], teams=["sales"]), "l")
    store.create(
        _in(
            "f.3",
            situations=["delay", "delivery"],
            status="draft",
            text={"zh-Hans": "包裹已经发出", "en": "The parcel is on its way"},
        ),
        "l",
    )
    store.create(_in("f.4", teams=["support"], status="retired"), "l")
    return store


@pytest.mark.parametrize(
    ("f", "keys"),
    [
        (PhraseFilter(), ["f.1", "f.2", "f.3", "f.4"]),
        (PhraseFilter(lang="zh-Hant"), ["f.2", "f.3", "f.4"]),
        (PhraseFilter(situations=["delay"]), ["f.1", "f.3", "f.4"]),
        (PhraseFilter(situations=["delivery", "price"]), ["f.2", "f.3"]),
        (PhraseFilter(emotions=["anger"]), ["f.1"]),
        (PhraseFilter(customer_types=["price_attitude:haggler"]), ["f.2"]),
        (PhraseFilter(statuses=["draft", "retired"]), ["f.3", "f.4"]),
        (PhraseFilter(team="sales"), ["f.1", "f.2", "f.3"]),
        (PhraseFilter(team=""), ["f.1", "f.3"]),
        (PhraseFilter(q="WAIT"), ["f.1"]),
        (PhraseFilter(q="包裹已經"), ["f.3"]),  # a Traditional query finds Simplified text
        (PhraseFilter(q="50%"), []),  # LIKE wildcards are literal
    ],
)
def test_store_list_filters(filled: PhraseStore, f: PhraseFilter, keys: list[str]) -> None:
    data, count = filled.list(f)
    assert [p["key"] for p in data] == keys and count == len(keys)


def test_store_list_paginates(filled: PhraseStore) -> None:
    data, count = filled.list(PhraseFilter(), offset=1, limit=2)
    assert [p["key"] for p in data] == ["f.2", "f.3"] and count == 4


def test_store_import_creates_updates_and_skips_unchanged(store: PhraseStore) -> None:
    report = store.import_entries([_in("i.1"), _in("i.2")], "lead")
    assert (report.created, report.updated) == (["i.1", "i.2"], [])
    report = store.import_entries([_in("i.1"), _in("i.2", technique="apology"), _in("i.3")], "lead2")
    assert (report.created, report.updated, report.unchanged) == (["i.3"], ["i.2"], ["i.1"])
    i2 = store.list(PhraseFilter(q="i.2"))[0][0]
    assert i2["version"] == 2 and store.history(i2["id"])[-1]["actor"] == "lead2"


def test_store_import_dry_run_writes_nothing(store: PhraseStore) -> None:
    report = store.import_entries([_in("d.1"), _in("d.2")], "lead", dry_run=True)
    assert report.created == ["d.1", "d.2"] and report.dry_run
    assert store.list(PhraseFilter())[1] == 0


def test_store_import_is_all_or_nothing(store: PhraseStore) -> None:
    store.create(_in("x.1"), "lead")
    # The third entry repeats the first one's key: the store refuses it after writing two rows in the
    # same transaction, and the whole import rolls back.
    with pytest.raises(Conflict, match="x.3"):
        store.import_entries([_in("x.3"), _in("x.4"), _in("x.3", technique="apology")], "lead")
    assert [p["key"] for p in store.list(PhraseFilter())[0]] == ["x.1"]


def test_store_concurrent_imports_leave_a_consistent_bank(store: PhraseStore) -> None:
    batch = [_in(f"c.{n}") for n in range(40)]
    outcomes: list[str] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        try:
            store.import_entries(batch, "lead")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "ok" in outcomes
    data, count = store.list(PhraseFilter(), limit=500)
    assert count == 40 and sorted(p["key"] for p in data) == sorted(e.key for e in batch)
    assert all(len(store.history(p["id"])) == 1 for p in data)


def test_store_seed_is_idempotent_and_keeps_lead_edits(store: PhraseStore, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "a.yml").write_text(yaml.safe_dump([phrase("s.1"), phrase("s.2")], allow_unicode=True), encoding="utf-8")
    assert store.seed(bank) == 2
    s1 = store.list(PhraseFilter(q="s.1"))[0][0]
    store.update(s1["id"], {"text": {"en": "A lead's own wording"}}, 1, "lead")
    store.retire(store.list(PhraseFilter(q="s.2"))[0][0]["id"], None, "lead")
    assert store.seed(bank) == 0  # a restart adds nothing twice
    (bank / "b.yml").write_text(yaml.safe_dump([phrase("s.3")]), encoding="utf-8")
    assert store.seed(bank) == 1  # a new shipped phrase arrives
    data, count = store.list(PhraseFilter())
    assert count == 3
    assert data[0]["text"]["en"] == "A lead's own wording" and data[1]["status"] == "retired"


def test_store_survives_restart(db_url: str) -> None:
    s = PhraseStore.connect(db_url)
    p = s.create(_in("r.1"), "lead")
    s.close()
    s = PhraseStore.connect(db_url)
    assert s.get(p["id"])["key"] == "r.1" and len(s.history(p["id"])) == 1
    s.close()


def test_store_usage_counts_per_day_and_stats(store: PhraseStore) -> None:
    p = store.create(_in("u.1"), "lead")
    counts = UsageStore(store.db)
    for event in ("shown", "shown", "shown", "shown", "used", "dismissed"):
        counts.record(p["id"], event)
    usage = counts.of(p["id"])
    assert usage["totals"] == {"shown": 4, "used": 1, "dismissed": 1, "acceptance_rate": 0.25}
    assert len(usage["days"]) == 1
    stats = counts.stats()
    assert stats["phrases"]["total"] == 1 and stats["phrases"]["by_status"] == {"approved": 1}
    assert stats["usage"]["used"] == 1 and stats["top_used"][0]["phrase_id"] == p["id"]
    assert stats["approved_by_label"]["situation"] == {"delay": 1}
    with pytest.raises(InvalidInput):
        counts.record(p["id"], "clicked")
