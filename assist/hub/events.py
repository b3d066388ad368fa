"""A conversation's events on the broker: published by whichever instance took the message, delivered to the
watchers on every instance (this one too, `memory://` by default), as the conversation's owner and each event's
team allow. Who watches what lives here, not in the conversations: watching a conversation that has had no
message yet holds no conversation, and each principal may watch a bounded number."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from assist.auth import may_see
from assist.broker import Broker, Subscription
from assist.errors import AssistError
from assist.hub.registry import Subscriber
from assist.hub.usage import UsageCounter
from assist.protocol import Envelope, SuggestionsOut
from assist.schemas import SuggestResult

logger = logging.getLogger(__name__)


class TooManySubscriptions(AssistError):
    status, code = 429, "too_many_subscriptions"


class Events:
    def __init__(self, broker: Broker, prefix: str, usage: UsageCounter, per_principal: int) -> None:
        self.broker, self.prefix, self.usage, self.per_principal = broker, prefix, usage, per_principal
        self.watchers: dict[str, set[Subscriber]] = {}
        self._watches: dict[str, Subscription] = {}
        self._count: Counter[str] = Counter()  # subscriptions per principal

    def channel(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}"

    def watched(self, cid: str) -> bool:
        return bool(self.watchers.get(cid))

    def teams(self, cid: str) -> set[str | None]:
        return {sub.team for sub in self.watchers.get(cid, ())}

    async def publish(self, event: Envelope) -> None:
        await self.broker.publish(self.channel(event.conversation_id), event.model_dump(mode="json"))

    async def publish_suggestions(
        self, cid: str, owner: str | None, message_id: str, by_team: dict[str | None, SuggestResult]
    ) -> None:
        """Each team's suggestions, to that team's watchers only."""
        for team, result in by_team.items():
            frame = SuggestionsOut.of(cid, message_id, result)
            await self.publish(Envelope(conversation_id=cid, owner=owner, frame=frame, everyone=False, team=team))

    async def add(self, cid: str, sub: Subscriber) -> None:
        """Deliver the conversation's events to `sub` from now on."""
        subs = self.watchers.setdefault(cid, set())
        if sub in subs:
            return
        if self._count[sub.key] >= self.per_principal:
            if not subs:
                del self.watchers[cid]
            raise TooManySubscriptions(
                f"this token already watches {self.per_principal} conversations; unsubscribe from some first"
            )
        subs.add(sub)
        self._count[sub.key] += 1
        if cid not in self._watches:
            self._watches[cid] = await self.broker.watch(self.channel(cid), lambda raw: self._deliver(cid, raw))

    async def remove(self, cid: str, sub: Subscriber) -> bool:
        """Stop delivering to `sub`; True when nobody here watches the conversation any more."""
        subs = self.watchers.get(cid)
        if not subs or sub not in subs:
            return False
        subs.discard(sub)
        self._count[sub.key] -= 1
        if subs:
            return False
        del self.watchers[cid]
        if (watch := self._watches.pop(cid, None)) is not None:
            await self.broker.unwatch(watch)
        return True

    async def remove_everywhere(self, sub: Subscriber) -> list[str]:
        """A connection went away; the conversations nobody here watches any more."""
        return [cid for cid in [c for c, s in self.watchers.items() if sub in s] if await self.remove(cid, sub)]

    async def close(self) -> None:
        for watch in self._watches.values():
            await self.broker.unwatch(watch)
        self._watches.clear()

    def _deliver(self, cid: str, raw: dict[str, Any]) -> None:
        event = Envelope.model_validate(raw)
        watchers = [
            sub
            for sub in self.watchers.get(cid, ())
            if may_see(sub.role, sub.team, event.owner) and event.reaches(sub.team)
        ]
        for sub in watchers:
            sub.send(event.frame)
        if watchers:
            self.usage.shown(event.frame)


async def every(seconds: float, job: Callable[[], Awaitable[object] | None]) -> None:
    """Run `job` every `seconds` until cancelled; a failed run is logged and the next one still runs."""
    while True:
        await asyncio.sleep(seconds)
        try:
            if (result := job()) is not None:
                await result
        except Exception:
            logger.exception("hub: periodic job %s failed", getattr(job, "__name__", job))
