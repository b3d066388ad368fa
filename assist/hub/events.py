"""A conversation's events on the broker: published by whichever instance took the message, delivered to the
watchers on every instance (this one too, `memory://` by default), team by team."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from assist.broker import Broker
from assist.hub.registry import HeldConversation
from assist.hub.shown import ShownCounter
from assist.protocol import Envelope

logger = logging.getLogger(__name__)


class Events:
    def __init__(self, broker: Broker, prefix: str, shown: ShownCounter) -> None:
        self.broker, self.prefix, self.shown = broker, prefix, shown

    def channel(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}"

    async def publish(self, event: Envelope) -> None:
        await self.broker.publish(self.channel(event.conversation_id), event.model_dump(mode="json"))

    async def watch(self, conv: HeldConversation) -> None:
        """Deliver the conversation's events to its subscribers here, from now on."""
        if conv.watch is None:
            conv.watch = await self.broker.watch(self.channel(conv.id), lambda raw: self._deliver(conv, raw))

    async def unwatch(self, conv: HeldConversation, force: bool = False) -> None:
        """Stop delivering once nobody here watches (or now, with `force`)."""
        if conv.watch is not None and (force or not conv.subscribers):
            watch, conv.watch = conv.watch, None
            await self.broker.unwatch(watch)

    def _deliver(self, conv: HeldConversation, raw: dict[str, Any]) -> None:
        event = Envelope.model_validate(raw)
        watchers = [sub for sub in conv.subscribers if event.reaches(sub.team)]
        for sub in watchers:
            sub.send(event.frame)
        if watchers:
            self.shown.count(event.frame)


async def every(seconds: float, job: Callable[[], Awaitable[None] | None]) -> None:
    """Run `job` every `seconds` until cancelled; a failed run is logged and the next one still runs."""
    while True:
        await asyncio.sleep(seconds)
        try:
            if (result := job()) is not None:
                await result
        except Exception:
            logger.exception("hub: periodic job %s failed", getattr(job, "__name__", job))
