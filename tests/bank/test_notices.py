"""Bank changes reach the search index through the broker only, this instance's too, off the writer's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from assist.bank.notices import BankChanges
from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseStore
from assist.broker import Broker
from tests.utils import phrase


class RecordingSearcher:
    """Records refreshes; each waits for `gate` (set by default) so a test can hold the re-encode."""

    def __init__(self) -> None:
        self.refreshed: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.threads: set[str] = set()

    def refresh(self, store: Any, ids: Sequence[int]) -> None:
        self.gate.wait(10)
        self.threads.add(threading.current_thread().name)
        self.refreshed.append(list(ids))


class DownBroker(Broker):
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        raise ConnectionError("broker down")


class DeafBroker(Broker):
    """Publishing works, but this instance's subscription hears nothing (a dropped Redis subscription)."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        return None


@pytest.fixture
def store(tmp_path: Path) -> PhraseStore:
    return PhraseStore.connect(f"sqlite:///{tmp_path / 'bank.db'}")


async def _follow(
    broker: Broker, store: PhraseStore, searcher: RecordingSearcher, **kwargs: Any
) -> AsyncIterator[BankChanges]:
    changes = BankChanges(broker, "test", store, searcher, **kwargs)
    task = await changes.start()
    try:
        yield changes
    finally:
        task.cancel()
        await changes.stop()


@pytest.mark.asyncio
async def test_an_edit_returns_before_the_index_refresh_and_settled_waits_for_it(store: PhraseStore) -> None:
    broker, searcher = Broker(), RecordingSearcher()
    async for changes in _follow(broker, store, searcher):
        async with broker.subscribe("test:bank") as heard:
            searcher.gate.clear()  # the re-encode takes "long"
            created = store.create(PhraseIn.model_validate(phrase("n.1")), "lead")  # returns at once
            notice = await asyncio.wait_for(heard.__anext__(), 5)
            assert notice == {"origin": changes.origin, "seq": 1, "ids": [created["id"]]}  # through the broker
            assert not await asyncio.to_thread(changes.settled, 0.2)
            searcher.gate.set()
            assert await asyncio.to_thread(changes.settled, 10)
        assert searcher.refreshed == [[created["id"]]]
        assert threading.main_thread().name not in searcher.threads  # a worker thread, not the writer's


@pytest.mark.asyncio
async def test_other_instances_notices_are_applied(store: PhraseStore) -> None:
    broker, searcher = Broker(), RecordingSearcher()
    async for changes in _follow(broker, store, searcher):
        await broker.publish("test:bank", {"origin": "elsewhere", "seq": 1, "ids": [41, 42]})
        await broker.publish("test:bank", {"origin": "elsewhere", "seq": 2, "ids": []})  # nothing to do
        for _ in range(200):
            if searcher.refreshed:
                break
            await asyncio.sleep(0.01)
        assert searcher.refreshed == [[41, 42]]
        assert await asyncio.to_thread(changes.settled, 1)  # nothing of this instance outstanding


@pytest.mark.asyncio
@pytest.mark.parametrize("broker_class", [DownBroker, DeafBroker])
async def test_an_own_change_that_never_comes_back_is_applied_here(
    store: PhraseStore, broker_class: type[Broker]
) -> None:
    searcher = RecordingSearcher()
    async for changes in _follow(broker_class(), store, searcher, own_timeout=0.05):
        created = store.create(PhraseIn.model_validate(phrase("n.2")), "lead")
        assert await asyncio.to_thread(changes.settled, 10)
        assert searcher.refreshed == [[created["id"]]]


@pytest.mark.asyncio
async def test_an_own_notice_is_applied_once(store: PhraseStore) -> None:
    broker, searcher = Broker(), RecordingSearcher()
    async for changes in _follow(broker, store, searcher, own_timeout=0.01):
        created = store.create(PhraseIn.model_validate(phrase("n.3")), "lead")
        assert await asyncio.to_thread(changes.settled, 10)
        await asyncio.gather(*changes._tasks)  # the fallback checked too, and found nothing left to do
        assert searcher.refreshed == [[created["id"]]]
