"""The hub: takes each conversation's messages in order, runs them through the pipeline, and publishes what it
found on the broker, which delivers it to the watchers on every instance (this one too)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from anyio import to_thread

from assist.broker import Broker
from assist.config import HubSettings
from assist.errors import AssistError
from assist.hub.connections import Connections, InFlight
from assist.hub.events import Events, every
from assist.hub.pipeline import MessagePipeline
from assist.hub.registry import ConversationRegistry, HeldConversation, Subscriber
from assist.hub.shown import ShownCounter
from assist.hub.store import ConversationStore, MemoryConversations
from assist.protocol import AnalysisOut, Envelope, MessageOut, SuggestionsOut
from assist.schemas import ConversationState, FeedResult, Message, RewriteResult, Role


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
        self.settings, self.rewriter, self.usage, self.prefix = settings, rewriter, usage, prefix
        self.store = store or MemoryConversations(settings.window)
        self.broker = broker or Broker()
        self.registry = ConversationRegistry(settings, analyzer.conversation, self.store, clock)
        self.pipeline = MessagePipeline(analyzer, suggester)
        self.shown = ShownCounter(usage)
        self.events = Events(self.broker, prefix, self.shown)
        self.connections, self.inflight, self.closing = Connections(), InFlight(), False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def conversations(self) -> dict[str, HeldConversation]:
        return self.registry.held

    def start(self) -> None:
        s = self.settings
        self._tasks = [asyncio.create_task(every(s.sweep_seconds, self.registry.sweep))]
        self._tasks.append(asyncio.create_task(every(s.usage_flush_seconds, self.shown.flush)))

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Refuse new messages, let in-flight ones finish, close every socket with 1001, save counts."""
        self.closing = True
        await self.inflight.settled(timeout)
        await self.connections.close_all(1001, timeout)
        for task in self._tasks:
            task.cancel()
        for conv in self.registry:
            await self.events.unwatch(conv, force=True)
        await self.shown.flush()

    async def feed(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        t: float | None = None,
        message_id: str | None = None,
        answer: bool = False,
        team: str | None = None,
    ) -> FeedResult:
        """Take one message (`t` defaults to its arrival, `message_id` to `m<n>`). A customer message is
        analysed, and replies are suggested for every team whose agents watch the conversation; with `answer`,
        also for `team`, and returned (the REST caller's)."""
        if self.closing:
            raise HubClosing("the service is shutting down; send the message to another instance or retry")
        conv = self.registry.get(conversation_id)
        with self.inflight:
            async with conv.lock:
                return await self._feed(conv, role, text, t, message_id, {team} if answer else set())

    async def _feed(
        self, conv: HeldConversation, role: Role, text: str, t: float | None, mid: str | None, asking: set[str | None]
    ) -> FeedResult:
        limit, now, cid = self.settings.max_text_chars, self.registry.clock(), conv.id
        cut = text[:limit]

        def build(seq: int) -> Message:
            t_ = now if t is None else t
            return Message(message_id=mid or f"m{seq}", role=role, text=cut, t=t_, truncated=len(text) > limit)

        await self.registry.catch_up(conv)
        conv.seq, message = await self.store.append(cid, build)
        conv.messages.append(message)
        conv.updated_at, out = now, FeedResult(conversation_id=cid, message=message)
        await self.events.publish(Envelope(conversation_id=cid, frame=MessageOut(conversation_id=cid, message=message)))
        analysis = await self.pipeline.analyse(conv, message)
        if analysis is None:
            return out
        earlier = list(reversed(conv.customer_texts))
        conv.customer_texts.append(message.text)
        conv.last_analysis, conv.last_customer, conv.suggestions = analysis, message, {}
        await self.store.save(cid, analysis=analysis, last_customer=message, clear_suggestions=True)
        frame = AnalysisOut(conversation_id=cid, message_id=message.message_id, analysis=analysis)
        await self.events.publish(Envelope(conversation_id=cid, frame=frame))
        teams = asking | await self.store.teams(cid)
        vector = await self.pipeline.vector(message.text, analysis.lang) if teams else None
        if vector is not None:
            conv.remember_vector(message.message_id, vector)
        conv.suggestions = await self.pipeline.suggest(message.text, analysis, earlier, teams, vector)
        await self.store.save(cid, suggestions=conv.suggestions)
        for each, result in conv.suggestions.items():
            frame_ = SuggestionsOut.of(cid, message.message_id, result)
            await self.events.publish(Envelope(conversation_id=cid, frame=frame_, everyone=False, team=each))
        out.analysis = analysis
        out.suggestions = next((conv.suggestions[x] for x in asking), None)
        return out

    async def state(self, conversation_id: str, team: str | None = None) -> ConversationState:
        """A held conversation's recent messages, latest analysis and suggestions for `team`."""
        conv = await self.registry.find(conversation_id)
        async with conv.lock:
            await self.registry.catch_up(conv)
            await self._ensure_suggestions(conv, team)
        return conv.snapshot(team)

    async def _ensure_suggestions(self, conv: HeldConversation, team: str | None) -> None:
        """Suggestions for the latest customer message as `team` sees the bank, when missing (under the lock)."""
        if conv.last_customer is None or conv.last_analysis is None or team in conv.suggestions:
            return
        earlier = list(reversed(conv.customer_texts))[1:]
        text, vector = conv.last_customer.text, conv.vectors.get(conv.last_customer.message_id)
        found = await self.pipeline.suggest(text, conv.last_analysis, earlier, [team], vector)
        conv.suggestions.update(found)
        await self.store.save(conv.id, suggestions=found)

    async def subscribe(self, sub: Subscriber, conversation_id: str) -> ConversationState:
        """Watch a conversation (held or not yet); the current state, with suggestions for sub's team."""
        conv = self.registry.get(conversation_id)
        conv.subscribers.add(sub)
        await self.store.add_team(conversation_id, sub.team)
        await self.events.watch(conv)
        return await self.state(conversation_id, sub.team)

    async def unsubscribe(self, sub: Subscriber, conversation_id: str) -> None:
        if (conv := self.registry.held.get(conversation_id)) is not None:
            conv.subscribers.discard(sub)
            await self.events.unwatch(conv)

    async def drop(self, sub: Subscriber) -> None:
        """A connection went away: it watches nothing any more."""
        self.connections.discard(sub)  # type: ignore[arg-type]
        for conv in self.registry:
            if sub in conv.subscribers:
                conv.subscribers.discard(sub)
                await self.events.unwatch(conv)

    async def rewrite(self, text: str) -> RewriteResult:
        result = await to_thread.run_sync(self.rewriter.rewrite, text[: self.settings.max_text_chars])
        return RewriteResult.model_validate(result.as_dict())

    async def feedback(self, conversation_id: str, phrase_id: int, action: str) -> None:
        await self.registry.find(conversation_id)
        event = "dismissed" if action == "dismissed" else "used"
        await to_thread.run_sync(self.usage.record, phrase_id, event)
