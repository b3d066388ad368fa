"""FeedbackMemory: agents' uses and dismissals as message vectors per team, bounded, decayed, shared between
instances through the store and the broker (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import secrets

import numpy as np
import pytest
from sqlalchemy import func, select

from assist.bank.feedback import FeedbackMemory, team_key
from assist.bank.models import FeedbackEvent
from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseStore
from assist.broker import Broker, RedisBroker
from assist.config import FeedbackSettings
from assist.errors import InvalidInput, PhraseNotFound
from tests.fakes import HashedEncoder
from tests.utils import phrase

ENC = HashedEncoder(dim=64)
DAY = 86_400.0


def vec(text: str) -> np.ndarray:
    return ENC.encode([text])[0]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def memory(store: PhraseStore, clock: Clock | None = None, **settings: object) -> FeedbackMemory:
    config = FeedbackSettings.model_validate({"min_similarity": 0.5, **settings})
    return FeedbackMemory(store.db, config, "fake|query", ENC.dim, clock=clock or Clock())


def phrases(store: PhraseStore, n: int = 3) -> list[int]:
    return [store.create(PhraseIn.model_validate(phrase(f"p{i}")), "lead")["id"] for i in range(n)]


def test_uses_for_similar_messages_raise_a_phrase_and_dismissals_sink_one(store: PhraseStore) -> None:
    a, b, c = phrases(store)
    mem = memory(store)
    for _ in range(3):
        mem.record("support", a, "used", vec("where is my parcel, it is late"))
        mem.record("support", b, "dismissed", vec("where is my parcel, it is late"))
    mem.record("support", c, "used", vec("我要退款，东西坏了"))
    near = mem.neighbours("support", vec("where is my parcel? it's late"))
    assert near[a].used == 3 and near[a].dismissed == 0 and near[a].score > 0.5
    assert near[b].dismissed == 3 and near[b].score < -0.5
    assert c not in near  # a message unlike this one does not vote
    assert mem.neighbours("sales", vec("where is my parcel, it is late")) == {}  # another team's agents
    assert mem.has("support") and not mem.has(None)


def test_the_nearest_k_vote_and_the_prior_damps_a_single_use(store: PhraseStore) -> None:
    a, b, _ = phrases(store)
    mem = memory(store, neighbours=2, prior=2.0)
    mem.record(None, a, "used", vec("refund please"))
    for _ in range(3):
        mem.record(None, b, "used", vec("refund please now"))
    near = mem.neighbours(None, vec("refund please now"))
    assert sum(s.used for s in near.values()) == 2  # only the two nearest events
    one = memory(store, neighbours=1, prior=2.0).neighbours(None, vec("refund please now"))
    assert list(one.values())[0].score == pytest.approx(1 / 3, abs=1e-3)  # (1 - 0) / (1 + 0 + 2)


def test_older_events_count_less_half_life(store: PhraseStore) -> None:
    a, b, _ = phrases(store)
    clock = Clock()
    mem = memory(store, clock, half_life_days=10, prior=0.0)
    mem.record("t", a, "used", vec("bill charged twice"), t=clock.now - 10 * DAY)
    mem.record("t", b, "dismissed", vec("bill charged twice"), t=clock.now - 10 * DAY)
    mem.record("t", b, "used", vec("bill charged twice"), t=clock.now)
    near = mem.neighbours("t", vec("bill charged twice"))
    assert near[a].score == pytest.approx(1.0)
    assert near[b].score == pytest.approx((1 - 0.5) / 1.5, abs=1e-3)  # the old dismissal weighs a half
    clock.now += 1000 * DAY
    assert mem.neighbours("t", vec("bill charged twice"))[b].used == 1  # counts stay; only the weight fades


def test_each_team_keeps_at_most_max_rows_the_oldest_go(store: PhraseStore) -> None:
    a, b, _ = phrases(store)
    mem = memory(store, max_rows_per_team=3)
    mem.record("t", a, "used", vec("old message about a refund"))
    for i in range(3):
        mem.record("t", b, "used", vec(f"newer message {i} about a refund"))
    mem.record("other", a, "used", vec("old message about a refund"))
    with store.db.session() as s:
        counts = dict(s.execute(select(FeedbackEvent.team, func.count()).group_by(FeedbackEvent.team)).all())
    assert counts == {"t": 3, "other": 1}
    near = mem.neighbours("t", vec("old message about a refund"))
    assert a not in near and near[b].used == 3


def test_vectors_not_text_unless_the_setting_says_so(store: PhraseStore) -> None:
    (a,) = phrases(store, 1)
    memory(store).record("t", a, "used", vec("x"), text="我的快递呢")
    memory(store, keep_text=True).record("t", a, "used", vec("x"), text="我的快递呢")
    with store.db.session() as s:
        assert sorted(s.scalars(select(FeedbackEvent.text)).all(), key=lambda t: t or "") == [None, "我的快递呢"]


def test_events_of_another_model_are_never_compared(store: PhraseStore) -> None:
    (a,) = phrases(store, 1)
    memory(store).record("t", a, "used", vec("parcel late"))
    other = FeedbackMemory(store.db, FeedbackSettings(min_similarity=0.5), "another|query", ENC.dim)
    assert other.neighbours("t", vec("parcel late")) == {} and not other.has("t")


def test_bad_input_is_refused_clearly(store: PhraseStore) -> None:
    (a,) = phrases(store, 1)
    mem = memory(store)
    with pytest.raises(PhraseNotFound):
        mem.record("t", 999_999, "used", vec("x"))
    with pytest.raises(InvalidInput, match="action"):
        mem.record("t", a, "edited", vec("x"))
    with pytest.raises(InvalidInput, match="values"):
        mem.record("t", a, "used", np.ones(3, dtype=np.float32))
    with pytest.raises(InvalidInput, match="zero"):
        mem.record("t", a, "used", np.zeros(ENC.dim, dtype=np.float32))
    assert mem.neighbours("t", np.ones(3)) == {}  # a query of the wrong size finds nothing, never crashes


def test_reset_forgets_a_phrase_in_every_team_and_the_console_counts(store: PhraseStore) -> None:
    a, b, _ = phrases(store)
    mem = memory(store)
    mem.record("t", a, "used", vec("late parcel"), t=100.0)
    mem.record("t", a, "dismissed", vec("late parcel"), t=200.0)
    mem.record(None, a, "used", vec("late parcel"), t=300.0)
    mem.record("t", b, "used", vec("late parcel"))
    assert mem.neighbours("t", vec("late parcel"))[a].used == 1
    seen = mem.of(a)
    assert (seen["used"], seen["dismissed"]) == (2, 1)
    assert seen["teams"] == [
        {"team": None, "used": 1, "dismissed": 0, "last_at": 300.0},
        {"team": "t", "used": 1, "dismissed": 1, "last_at": 200.0},
    ]
    assert mem.reset(a) == 3
    assert a not in mem.neighbours("t", vec("late parcel")) and b in mem.neighbours("t", vec("late parcel"))
    assert mem.of(a)["teams"] == []
    with pytest.raises(PhraseNotFound):
        mem.reset(999_999)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["memory", pytest.param("redis", marks=pytest.mark.live)])
async def test_another_instances_events_reach_this_ones_memory_through_the_broker(
    store: PhraseStore, kind: str
) -> None:
    a, b, _ = phrases(store)
    prefix = f"test-{secrets.token_hex(4)}"
    if kind == "redis":  # two instances, each with its own connection to the machine's Redis
        from tests.test_broker import REDIS_URL, redis_or_skip

        redis_or_skip()
        brokers: list[Broker] = [RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)]
    else:
        brokers = [Broker(), Broker()]
        brokers[1] = brokers[0]  # the in-process broker links the memories of one process
    for broker in brokers:
        await broker.connect()
    mine, theirs = memory(store), memory(store)
    tasks = [await mine.follow(brokers[0], prefix), await theirs.follow(brokers[1], prefix)]
    try:
        mine.record("t", a, "used", vec("late parcel"))
        assert theirs.neighbours("t", vec("late parcel"))[a].used == 1  # loaded from the store
        await asyncio.to_thread(mine.record, "t", a, "used", vec("late parcel"))
        for _ in range(100):
            await asyncio.sleep(0.01)
            if theirs.neighbours("t", vec("late parcel"))[a].used == 2:
                break
        assert theirs.neighbours("t", vec("late parcel"))[a].used == 2
        await asyncio.to_thread(mine.reset, a)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if a not in theirs.neighbours("t", vec("late parcel")):
                break
        assert theirs.neighbours("t", vec("late parcel")) == {}
    finally:
        for task in tasks:
            task.cancel()
        for broker in set(brokers):
            await broker.disconnect()


def test_recording_off_keeps_nothing(store: PhraseStore) -> None:
    (a,) = phrases(store, 1)
    mem = memory(store, record=False)
    mem.record("t", a, "used", vec("x"))
    assert not mem.has("t")
    assert team_key(None) == "" and team_key("x") == "x"


def test_after_a_broker_outage_teams_are_read_afresh(store: PhraseStore) -> None:
    """Notices of an outage may be lost: `forget_loaded` (called on reconnect) makes the next read see rows that
    another instance wrote meanwhile."""
    a, b, _ = phrases(store)
    here, there = memory(store), memory(store)
    here.record("support", a, "used", vec("where is my parcel, it is late"))
    assert set(here.neighbours("support", vec("where is my parcel?"))) == {a}  # loaded here now
    there.record("support", b, "used", vec("where is my parcel, it is late"))  # its notice never arrives
    here.forget_loaded()
    assert set(here.neighbours("support", vec("where is my parcel?"))) == {a, b}
