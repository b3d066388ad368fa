"""The hub: takes each conversation's messages in order, runs them through the pipeline, and publishes what it
found on the broker, which delivers it to the watchers on every instance (this one too)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from assist.auth import OPEN_ACCESS, Principal
from assist.broker import Broker
from assist.config import HubSettings
from assist.errors import AssistError
from assist.hub.connections import Connections, InFlight
from assist.hub.events import Events, every
from assist.hub.pipeline import MessagePipeline
from assist.hub.registry import ConversationRegistry, HeldConversation, Subscriber, UnknownConversation, check_access
from assist.hub.store import ConversationStore, MemoryConversations
from assist.hub.usage import UsageCounter
from assist.protocol import AnalysisOut, Envelope, MessageOut
from assist.schemas import ConversationState, FeedResult, Message, Role


class HubClosing(AssistError):
    status, code = 503, "shutting_down"


class Hub:
    def __init__(
        self,
        analyzer: Any,
        suggester: Any,
        rewriter: Any,
        usage: Any,
        settings: HubSettings,
        store: ConversationStore | None = None,
        broker: Broker | None = None,
        prefix: str = "assist",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store, self.broker = store or MemoryConversations(settings.window), broker or Broker()
        self.usage = UsageCounter(usage)
        self.events = Events(self.broker, prefix, self.usage, settings.max_subscriptions)
        self.registry = ConversationRegistry(settings, analyzer.conversation, self.store, clock, self.events.watched)
        self.pipeline = MessagePipeline(analyzer, suggester, rewriter, settings.max_text_chars)
        self.rewrite = self.pipeline.rewrite  # an agent's draft: rewritten, nothing kept
        self.connections, self.inflight, self.closing = Connections(), InFlight(), False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        s = self.settings
        jobs = [(s.sweep_seconds, self.registry.sweep), (s.usage_flush_seconds, self.usage.flush)]
        self._tasks = [asyncio.create_task(every(seconds, job)) for seconds, job in jobs]

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Refuse new messages, let in-flight ones finish, close every socket with 1001, save counts."""
        self.closing = True
        await self.inflight.settled(timeout)
        await self.connections.close_all(1001, timeout)
        for task in self._tasks:
            task.cancel()
        await self.events.close()
        await self.usage.flush()

    async def feed(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        t: float | None = None,
        message_id: str | None = None,
        answer: bool = False,
        by: Principal | None = None,
    ) -> FeedResult:
        """Take one message from `by` (whose team owns a new conversation); a customer's is analysed and answered for
        each watching team (with `answer`, for `by`'s too, returned). `t`: arrival; `message_id`: `m<n>`."""
        if self.closing:
            raise HubClosing("the service is shutting down; send the message to another instance or retry")
        with self.inflight:
            conv = self.registry.get(conversation_id)
            async with conv.lock:
                return await self._feed(conv, role, text, t, message_id, answer, by or OPEN_ACCESS)

    async def _feed(
        self,
        conv: HeldConversation,
        role: Role,
        text: str,
        t: float | None,
        mid: str | None,
        answer: bool,
        by: Principal,
    ) -> FeedResult:
        now, cid, cut = self.registry.clock(), conv.id, text[: self.settings.max_text_chars]

        def build(seq: int) -> Message:
            t_ = now if t is None else t
            return Message(message_id=mid or f"m{seq}", role=role, text=cut, t=t_, truncated=len(text) > len(cut))

        await self.registry.catch_up(conv)
        check_access(by, conv)
        self.registry.reserve(conv, cut)
        conv.seq, message = await self.store.append(cid, build, by.team)
        conv.owner = by.team if conv.seq == 1 else conv.owner
        conv.messages.append(message)
        conv.updated_at, out = now, FeedResult(conversation_id=cid, message=message)
        await self.events.publish(
            Envelope(conversation_id=cid, owner=conv.owner, frame=MessageOut(conversation_id=cid, message=message))
        )
        analysis = await self.pipeline.analyse(conv, message)
        if analysis is None:
            return out
        earlier = conv.took(message, analysis)
        await self.store.save(cid, analysis=analysis, last_customer=message, clear_suggestions=True)
        frame = AnalysisOut(conversation_id=cid, message_id=message.message_id, analysis=analysis)
        await self.events.publish(Envelope(conversation_id=cid, owner=conv.owner, frame=frame))
        asking = {by.team} if answer else set()
        teams = asking | self.events.teams(cid) | await self.store.teams(cid)
        vector = await self.pipeline.vector(conv, message, analysis.lang) if teams else None
        conv.suggestions = await self.pipeline.suggest(message.text, analysis, earlier, teams, vector)
        await self.store.save(cid, suggestions=conv.suggestions)
        await self.events.publish_suggestions(conv.id, conv.owner, message.message_id, conv.suggestions)
        out.analysis = analysis
        out.suggestions = next((conv.suggestions[x] for x in asking), None)
        return out

    async def state(self, conversation_id: str, viewer: Principal = OPEN_ACCESS) -> ConversationState:
        """A held conversation's recent messages, latest analysis and suggestions for the viewer's team."""
        conv = await self.registry.find(conversation_id)
        async with conv.lock:
            await self.registry.catch_up(conv)
            check_access(viewer, conv)
            if (found := await self.pipeline.missing_suggestions(conv, viewer.team)) is not None:
                await self.store.save(conv.id, suggestions=found)
        return conv.snapshot(viewer.team)

    async def subscribe(
        self, sub: Subscriber, conversation_id: str, viewer: Principal = OPEN_ACCESS
    ) -> ConversationState:
        """Watch a conversation (one with no message yet is not held; its first reaches `sub`); its state now."""
        await self.events.add(conversation_id, sub)
        try:
            await self.store.add_team(conversation_id, viewer.team)
            return await self.state(conversation_id, viewer)
        except UnknownConversation:
            return ConversationState(messages=[], analysis=None, suggestions=None, updated_at=None)
        except BaseException:
            await self.unsubscribe(sub, conversation_id)
            raise

    async def unsubscribe(self, sub: Subscriber, conversation_id: str) -> None:
        if await self.events.remove(conversation_id, sub):
            self.registry.release(conversation_id)

    async def drop(self, sub: Subscriber) -> None:
        """A connection went away: it watches nothing any more."""
        self.connections.discard(sub)  # type: ignore[arg-type]
        for cid in await self.events.remove_everywhere(sub):
            self.registry.release(cid)

    async def feedback(
        self,
        conversation_id: str,
        phrase_id: int,
        action: str,
        viewer: Principal = OPEN_ACCESS,
        message_id: str | None = None,
    ) -> None:
        """Count a use or dismissal for `message_id` (default: the latest customer message); learn from it."""
        conv = await self.registry.find(conversation_id)
        check_access(viewer, conv)
        answered = message_id or (conv.last_customer.message_id if conv.last_customer else "")
        if await self.usage.feedback(phrase_id, action, (conv.id, answered, viewer.key)):  # repeats count once
            await self.pipeline.learn(conv, answered, phrase_id, action, viewer.team)
