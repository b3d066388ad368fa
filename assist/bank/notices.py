"""Bank-change notices: the one path from a committed phrase change to every instance's search index.

A change is published on the broker (`memory://` by default, Redis between instances); every instance,
the one that made it too, applies the notices it receives to its index on a worker thread, one at a time.
The request that edited a phrase returns without waiting for the re-encode. To wait for it (tests, a
script that edits then searches), call `BankChanges.settled()`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Sequence
from typing import Any

from anyio import to_thread

from assist.bank.store import PhraseStore
from assist.broker import Broker

logger = logging.getLogger(__name__)


class BankChanges:
    """Publishes this instance's phrase changes and applies every instance's ones to its search index."""

    def __init__(
        self, broker: Broker, prefix: str, store: PhraseStore, searcher: Any, own_timeout: float = 5.0
    ) -> None:
        self.broker = broker
        self.store = store
        self.searcher = searcher
        self.channel = f"{prefix}:bank"
        self.origin = secrets.token_hex(6)
        self.own_timeout = own_timeout  # an own notice not back by then (subscription down) is applied directly
        self._done = threading.Condition()
        self._seq = 0  # changes this instance published
        self._outstanding: set[int] = set()  # of those, the ones its index has not taken in yet
        self._claimed: set[int] = set()  # outstanding ones being applied now (by the listener or the fallback)
        self._tasks: set[asyncio.Task[None]] = set()
        self._one_at_a_time = asyncio.Lock()  # refreshes read the store when they run: later ones read newer
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> asyncio.Task[None]:
        """Subscribe, then follow the store's changes; returns the listening task (cancel it to stop)."""
        self._loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        task = self._loop.create_task(self._listen(ready))
        await ready.wait()
        self.store.on_change(self._announce)
        self.broker.on_reconnect(self._resync)
        return task

    def _resync(self) -> None:
        """The broker lost its connection for a while: notices of that time may never arrive, so re-read the
        whole bank into the index (vectors come from the cache; off the event loop, after queued refreshes)."""
        task = asyncio.get_running_loop().create_task(self._resync_now())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resync_now(self) -> None:
        try:
            async with self._one_at_a_time:
                await to_thread.run_sync(self.searcher.resync, self.store)
            logger.info("bank notice: index re-read from the store after the broker came back")
        except Exception:
            logger.exception("bank notice: re-reading the bank after the broker came back failed")

    def settled(self, timeout: float = 30.0) -> bool:
        """Block until every change this instance published so far is in its index; False on timeout.
        Call it from a thread other than the event loop's (a test, `asyncio.to_thread`)."""
        with self._done:
            target = self._seq
            return self._done.wait_for(lambda: not any(n <= target for n in self._outstanding), timeout)

    def _announce(self, ids: Sequence[int]) -> None:  # called after a commit, from whatever thread wrote it
        loop = self._loop
        assert loop is not None
        with self._done:
            self._seq += 1
            self._outstanding.add(self._seq)
            notice = {"origin": self.origin, "seq": self._seq, "ids": list(ids)}
        loop.call_soon_threadsafe(self._spawn, notice)

    def _spawn(self, notice: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(notice))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, notice: dict[str, Any]) -> None:
        """Publish, retrying while the broker is down (other instances must hear of every change); this instance's
        index takes it in meanwhile."""
        delay, published = 0.2, False
        while not published:
            try:
                await self.broker.publish(self.channel, notice)
                published = True
            except Exception as exc:
                if delay == 0.2:  # once per notice: the broker is down
                    logger.warning("bank notice: broker unavailable (%s); retrying", type(exc).__name__)
                    await self._apply(notice)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        await asyncio.sleep(self.own_timeout)
        await self._apply(notice)  # a no-op when it came back meanwhile; else it is applied here all the same

    def _claim(self, seq: int) -> bool:
        """Whether this instance's notice `seq` still needs applying; it is then the caller's to apply."""
        with self._done:
            if seq not in self._outstanding or seq in self._claimed:
                return False
            self._claimed.add(seq)
            return True

    async def _listen(self, ready: asyncio.Event) -> None:
        async with self.broker.subscribe(self.channel) as notices:
            ready.set()
            async for notice in notices:
                if notice.get("ids"):
                    await self._apply(notice)

    async def _apply(self, notice: dict[str, Any]) -> None:
        own = notice.get("origin") == self.origin
        seq = int(notice.get("seq", 0))
        if own and not self._claim(seq):
            return  # applied or being applied already (by the listener, or by the fallback)
        try:
            async with self._one_at_a_time:
                await to_thread.run_sync(self.searcher.refresh, self.store, notice["ids"])
        except Exception:
            logger.exception("bank notice: refreshing %d phrases failed", len(notice["ids"]))
        finally:
            if own:
                with self._done:
                    self._outstanding.discard(seq)
                    self._claimed.discard(seq)
                    self._done.notify_all()

    async def stop(self) -> None:
        """Cancel the pending publications (the listening task is the caller's to cancel)."""
        for task in list(self._tasks):
            task.cancel()
