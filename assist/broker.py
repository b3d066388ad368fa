"""Publish/subscribe between instances, in broadcaster's shape: a backend chosen by URL (memory://, redis://)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from assist.redis_client import redis_client, redis_errors

logger = logging.getLogger(__name__)


class Subscription:
    """Messages of one channel, in order: as an async iterator, or handed to a callback as they arrive."""

    def __init__(self, channel: str, callback: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.channel = channel
        self.callback = callback
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def put(self, message: dict[str, Any]) -> None:
        if self.callback is None:
            self.queue.put_nowait(message)
            return
        try:
            self.callback(message)
        except Exception:  # one watcher's failure must not stop the others
            logger.exception("broker: a watcher of a channel failed")

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self.queue.get()


class Broker:
    """In-process backend (the default): messages reach the subscribers of this process only."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._reconnected: list[Callable[[], None]] = []

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call `callback` (on the event loop) whenever the connection comes back after a loss: messages
        published meanwhile may never have arrived, so a follower should catch up from the source of truth."""
        self._reconnected.append(callback)

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def ping(self) -> None:
        """Raise BrokerUnavailable when the broker does not answer (health checks)."""
        return None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._deliver(channel, message)

    def _deliver(self, channel: str, message: dict[str, Any]) -> None:
        for sub in list(self._subs.get(channel, ())):
            sub.put(message)

    async def _listen(self, channel: str) -> None:
        return None

    async def _unlisten(self, channel: str) -> None:
        return None

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        sub = await self._add(Subscription(channel))
        try:
            yield sub
        finally:
            await self.unwatch(sub)

    async def watch(self, channel: str, callback: Callable[[dict[str, Any]], None]) -> Subscription:
        """Call `callback` with each message of the channel (in this process: as it is published) until
        `unwatch`."""
        return await self._add(Subscription(channel, callback))

    async def _add(self, sub: Subscription) -> Subscription:
        first = sub.channel not in self._subs
        self._subs.setdefault(sub.channel, set()).add(sub)
        if first:
            try:
                await self._listen(sub.channel)
            except BaseException:
                await self.unwatch(sub)
                raise
        return sub

    async def unwatch(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.channel)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            self._subs.pop(sub.channel, None)
            await self._unlisten(sub.channel)


class RedisBroker(Broker):
    """Redis pub/sub: one connection listens for every channel this process subscribes to."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._redis: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._redis = redis_client(self.url)
        await self._redis.ping()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._reader = asyncio.create_task(self._read())

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    @redis_errors
    async def ping(self) -> None:
        await asyncio.wait_for(self._redis.ping(), 2.0)

    @redis_errors
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._redis.publish(channel, json.dumps(message, ensure_ascii=False, default=str))

    @redis_errors
    async def _listen(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)

    async def _unlisten(self, channel: str) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        """Deliver what Redis sends. After a lost connection, keep trying to subscribe again to every channel
        this process wants, until Redis is back."""
        lost = False
        while True:
            try:
                wanted = list(self._subs)
                if wanted and not self._pubsub.subscribed:
                    await self._pubsub.subscribe(*wanted)
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                msg = await self._pubsub.get_message(timeout=1.0)
                if lost:
                    logger.info("broker: redis connection back")
                    lost = False
                    for callback in list(self._reconnected):
                        try:
                            callback()
                        except Exception:
                            logger.exception("broker: a reconnect follower failed")
                if msg and msg.get("type") == "message":
                    channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
                    self._deliver(channel, json.loads(msg["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted or the network blinked
                if not lost:
                    logger.warning("broker: redis connection lost (%s); reconnecting", type(exc).__name__)
                    lost = True
                await asyncio.sleep(0.2)
                with contextlib.suppress(Exception):
                    await self._pubsub.reset()


def create_broker(url: str | None) -> Broker:
    """`memory://` (or nothing) for one process; `redis://host:port/db` to reach every instance."""
    if not url or url.startswith("memory://"):
        return Broker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url)
    raise ValueError(f"unknown broker URL {url!r}: use memory:// or redis://host:port/db")
