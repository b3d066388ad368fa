"""Hub limits and the outbox's drop policy, with the real analyzer."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from assist.analysis import Analyzer
from assist.auth import Principal
from assist.config import HubSettings
from assist.errors import Forbidden
from assist.hub import Hub, HubBusy, HubClosing, Outbox, UnknownConversation
from assist.hub.events import TooManySubscriptions


class Watcher:
    team, role, key = None, "lead", "open"

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def send(self, frame: Any) -> None:
        self.frames.append(frame.model_dump(mode="json"))


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load()


def hub(analyzer: Analyzer, **settings: float) -> Hub:
    # Agent messages only: no suggestions are asked for, so no suggester or store is needed.
    return Hub(analyzer, None, None, None, HubSettings(**settings))


def frame(kind: str, n: int) -> Any:
    return SimpleNamespace(type=kind, n=n)  # the outbox reads a frame's `type` only


def test_outbox_drops_oldest_droppable_first() -> None:
    box = Outbox(3, limit=4)
    for f in (frame("suggestions", 1), frame("ack", 2), frame("analysis", 3)):
        box.put(f)
    box.put(frame("message", 4))  # an event over the soft cap: the oldest event goes
    assert [f.n for f in box._items] == [2, 3, 4] and box.dropped == 1
    box.put(frame("rewrite", 5))  # a reply is kept over the soft cap...
    assert [f.n for f in box._items] == [2, 3, 4, 5]
    box.put(frame("error", 6))  # ...and at the hard cap pushes out the oldest event
    assert [f.n for f in box._items] == [2, 4, 5, 6] and box.dropped == 2
    box.put(frame("suggestions", 7))  # a new event pushes out the oldest event still queued
    assert [f.n for f in box._items] == [2, 5, 6, 7] and box.dropped == 3
    box.put(frame("analysis", 8))
    box.put(frame("suggestions", 9))
    assert [f.n for f in box._items] == [2, 5, 6, 9] and box.dropped == 5


@pytest.mark.asyncio
async def test_hub_cap_evicts_idle_unwatched_then_refuses(analyzer: Analyzer) -> None:
    h = hub(analyzer, max_conversations=2)
    await h.feed("a", "agent", "hello")
    await h.feed("b", "agent", "hello")
    await h.feed("c", "agent", "hello")  # "a" is the oldest idle, unwatched: it goes
    assert sorted(h.registry.held) == ["b", "c"]
    w1, w2 = Watcher(), Watcher()
    await h.subscribe(w1, "b")
    await h.subscribe(w2, "c")
    with pytest.raises(HubBusy):
        await h.feed("d", "agent", "hello")
    assert sorted(h.registry.held) == ["b", "c"]


@pytest.mark.asyncio
async def test_hub_sweeps_idle_conversations_after_ttl(analyzer: Analyzer) -> None:
    h = hub(analyzer, ttl_seconds=0.05)
    await h.feed("old", "agent", "hi")
    watcher = Watcher()
    await h.subscribe(watcher, "watched")
    await asyncio.sleep(0.1)
    h.registry.sweep()
    assert list(h.registry.held) == []  # watching a conversation with no message yet holds none
    with pytest.raises(UnknownConversation):
        await h.state("old")
    await h.feed("watched", "agent", "hello")  # its first message reaches the watcher all the same
    assert [f["type"] for f in watcher.frames] == ["message"]
    h.registry.sweep()
    assert list(h.registry.held) == ["watched"]  # watched: kept past the TTL


@pytest.mark.asyncio
async def test_hub_keeps_order_per_conversation(analyzer: Analyzer) -> None:
    h = hub(analyzer)
    watcher = Watcher()
    await h.subscribe(watcher, "o")
    await asyncio.gather(*(h.feed("o", "agent", f"reply {i}") for i in range(20)))
    ids = [f["message"]["message_id"] for f in watcher.frames if f["type"] == "message"]
    assert ids == [f"m{i}" for i in range(1, 21)]


@pytest.mark.asyncio
async def test_hub_refuses_messages_while_shutting_down(analyzer: Analyzer) -> None:
    h = hub(analyzer)
    await h.shutdown(timeout=1)
    with pytest.raises(HubClosing):
        await h.feed("x", "agent", "hi")


@pytest.mark.asyncio
async def test_watching_unknown_conversations_holds_none_and_is_capped_per_token(analyzer: Analyzer) -> None:
    h = hub(analyzer, max_conversations=5, max_subscriptions=100)
    greedy = Watcher()
    for i in range(100):
        await h.subscribe(greedy, f"nope-{i}")
    assert len(h.registry.held) == 0  # nothing held: other conversations still get in
    with pytest.raises(TooManySubscriptions):
        await h.subscribe(greedy, "one-more")
    for i in range(5):
        await h.feed(f"real-{i}", "agent", "hello")
    other = Watcher()
    other.key = "another-token"
    await h.subscribe(other, "real-0")  # the limit is per token
    await h.drop(greedy)
    await h.subscribe(Watcher(), "after-drop")  # the dropped socket's subscriptions were released


@pytest.mark.asyncio
async def test_conversations_belong_to_the_feeding_team(analyzer: Analyzer) -> None:
    h = hub(analyzer)
    shop = Principal("shop-widget", "integration", team="shop", token_id=1)
    shop_agent, bank_agent = Principal("a", "agent", team="shop", token_id=2), Principal("b", "agent", "bank", 3)
    lead = Principal("lead", "lead", token_id=4)
    early_bank = Watcher()
    early_bank.team, early_bank.role, early_bank.key = "bank", "agent", "token:3"
    await h.subscribe(early_bank, "c", bank_agent)  # before the first message: nothing to refuse yet
    await h.feed("c", "customer", "where is my parcel", by=shop)
    assert early_bank.frames == []  # it belongs to shop: bank's agent hears nothing of it
    assert (await h.state("c", shop_agent)).messages[0].text == "where is my parcel"
    assert (await h.state("c", lead)).messages
    with pytest.raises(Forbidden):
        await h.state("c", bank_agent)
    with pytest.raises(Forbidden):
        await h.subscribe(Watcher(), "c", bank_agent)
    with pytest.raises(Forbidden):
        await h.feed("c", "customer", "hi", by=Principal("bank-widget", "integration", "bank", 5))
    with pytest.raises(Forbidden):
        await h.feedback("c", 1, "used", bank_agent)


@pytest.mark.asyncio
async def test_memory_budget_evicts_idle_conversations_then_refuses(analyzer: Analyzer) -> None:
    h = hub(analyzer, max_memory_mb=1, window=50, max_text_chars=200_000)
    big = "长" * 100_000  # about 0.26 MB held per message (text x 1.3)
    for cid in ("a", "b", "c"):
        await h.feed(cid, "agent", big)
    assert len(h.registry.held) == 3 and h.registry.bytes <= 2**20
    await h.feed("d", "agent", big)  # over budget: the oldest idle conversation goes
    assert "a" not in h.registry.held and "d" in h.registry.held and h.registry.bytes <= 2**20
    for cid in ("b", "c", "d"):
        w = Watcher()
        w.key = f"watcher-{cid}"
        await h.subscribe(w, cid)
    with pytest.raises(HubBusy):  # everything held is watched: nothing to evict
        await h.feed("d", "agent", big)
    assert h.registry.bytes <= 2**20
