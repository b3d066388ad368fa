"""The hub's parts on their own: the conversation stores (memory and Redis, one contract), the registry's clock,
the broker's watch, and the pipeline ranking a message once however many teams watch."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from assist.broker import Broker, create_broker
from assist.config import HubSettings, Settings
from assist.hub import HubBusy, MemoryConversations, RedisConversations, UnknownConversation, create_conversation_store
from assist.hub.registry import ConversationRegistry
from assist.schemas import Message
from assist.services import build_services
from tests.fakes import HashedEncoder, shared_analyzer, shared_rewriter
from tests.test_broker import REDIS_URL, redis_or_skip


def message(seq: int, text: str = "hi", role: str = "customer") -> Message:
    return Message(message_id=f"m{seq}", role=role, text=text, t=float(seq))  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["memory://", REDIS_URL])
@pytest.mark.asyncio
async def test_conversation_stores_keep_one_contract(url: str) -> None:
    if url.startswith("redis"):
        redis_or_skip()
    store = create_conversation_store(url, prefix=f"test-{secrets.token_hex(4)}", ttl=60, window=3)
    await store.connect()
    try:
        assert not await store.exists("c") and await store.seq("c") == 0
        for i in range(5):
            seq, m = await store.append("c", lambda n: message(n, f"text {n}"))
            assert seq == i + 1 and m.message_id == f"m{seq}"
        assert await store.exists("c") and await store.seq("c") == 5
        assert [m.text for m in await store.messages("c")] == ["text 3", "text 4", "text 5"]  # the window
        await store.save("c", last_customer=message(5))
        state = await store.state("c")
        assert state.last_customer is not None and state.last_customer.message_id == "m5" and state.analysis is None
        await store.add_team("c", None)
        await store.add_team("c", "vip")
        assert await store.teams("c") == {None, "vip"}
        store.forget("c")  # memory: this process no longer holds it; Redis: other instances may
        assert await store.exists("c") is url.startswith("redis")
    finally:
        await store.close()


def test_conversation_store_urls() -> None:
    assert isinstance(create_conversation_store(None, prefix="p", ttl=1, window=1), MemoryConversations)
    assert isinstance(create_conversation_store("memory://", prefix="p", ttl=1, window=1), MemoryConversations)
    assert isinstance(create_conversation_store(REDIS_URL, prefix="p", ttl=1, window=1), RedisConversations)
    with pytest.raises(ValueError, match="memory://"):
        create_conversation_store("kafka://x", prefix="p", ttl=1, window=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.asyncio
async def test_registry_sweeps_by_its_clock_and_caps() -> None:
    clock, store, watched = Clock(), MemoryConversations(10), set()
    registry = ConversationRegistry(
        HubSettings(ttl_seconds=60, max_conversations=2), dict, store, clock, watched.__contains__
    )
    old = registry.get("old")
    old.updated_at = clock()
    await store.append("old", message)
    clock.now += 61
    fresh = registry.get("fresh")
    fresh.updated_at = clock()
    registry.sweep()
    assert "old" not in registry and "fresh" in registry
    assert not await store.exists("old")  # the store forgets with the registry
    with pytest.raises(UnknownConversation):
        await registry.find("old")
    registry.get("b")
    watched.update({"b", "fresh"})
    with pytest.raises(HubBusy):  # both held conversations are watched: nothing to evict
        registry.get("c")


@pytest.mark.asyncio
async def test_broker_watch_delivers_as_published_until_unwatched() -> None:
    broker = Broker()
    got: list[dict[str, Any]] = []
    watch = await broker.watch("ch", got.append)
    await broker.publish("ch", {"n": 1})
    assert got == [{"n": 1}]  # in this process, delivered before publish returns
    await broker.unwatch(watch)
    await broker.publish("ch", {"n": 2})
    assert got == [{"n": 1}]
    assert isinstance(create_broker("memory://"), Broker)


class Watcher:
    role = "agent"

    def __init__(self, team: str | None) -> None:
        self.team, self.key = team, f"agent-of-{team}"
        self.frames: list[Any] = []

    def send(self, frame: Any) -> None:
        self.frames.append(frame)


@pytest.mark.asyncio
async def test_a_message_is_ranked_once_for_every_watching_team(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    encoder = HashedEncoder()
    async with build_services(
        settings, encoder=encoder, analyzer=shared_analyzer(), rewriter=shared_rewriter("en")
    ) as services:
        hub, searcher = services.hub, services.suggester.searcher
        calls: list[tuple[str | None, ...]] = []
        original = searcher.search_teams

        def spy(q: Any, teams: Any, channel: str = "rerank") -> Any:
            calls.append(tuple(teams))
            return original(q, teams, channel)

        searcher.search_teams = spy
        watchers = [Watcher(None), Watcher("vip"), Watcher("billing")]
        for w in watchers:
            await hub.subscribe(w, "c1")
        encodes = encoder.calls
        await hub.feed("c1", "customer", "My parcel is two weeks late, where is it?")
        assert calls == [(None, "billing", "vip")]  # one ranking, cut for three teams
        assert encoder.calls == encodes + 1  # one query encode
        for w in watchers:
            suggestions = [f for f in w.frames if f.type == "suggestions"]
            assert len(suggestions) == 1 and suggestions[0].items
