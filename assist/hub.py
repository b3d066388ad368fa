"""The conversation hub: per-conversation state, message processing in order, events to subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from anyio import CapacityLimiter, to_thread

from assist.broker import Broker
from assist.config import HubSettings
from assist.errors import AssistError, NotFound
from assist.protocol import AnalysisOut, Envelope, MessageOut, ServerFrame, SuggestionsOut
from assist.retrieval.batcher import EncodeBatcher
from assist.schemas import Analysis, ConversationState, FeedResult, Message, RewriteResult, Role, SuggestResult
from assist.shared import SharedConversations, StoredState

logger = logging.getLogger(__name__)

DROPPABLE = frozenset({"analysis", "suggestions", "message"})


class HubBusy(AssistError):
    status, code = 503, "busy"


class HubClosing(AssistError):
    status, code = 503, "shutting_down"


class UnknownConversation(NotFound):
    code = "unknown_conversation"


class Subscriber(Protocol):
    """A connection that receives a conversation's events."""

    @property
    def team(self) -> str | None: ...

    def send(self, frame: ServerFrame) -> None: ...


class Outbox:
    """A bounded send queue. When full, the oldest droppable frame (analysis, suggestions, message) goes
    first, so a slow client never blocks the hub and never loses a reply to its own request."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[ServerFrame | None] = deque()
        self._ready = asyncio.Event()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, frame: ServerFrame | None) -> None:
        if frame is not None and len(self._items) >= self.maxsize:
            victim = next((i for i, f in enumerate(self._items) if f is not None and f.type in DROPPABLE), None)
            if victim is None:
                if frame.type in DROPPABLE:
                    self.dropped += 1
                    return
                victim = 0
            del self._items[victim]
            self.dropped += 1
        self._items.append(frame)
        self._ready.set()

    async def get(self) -> ServerFrame | None:
        """The next frame; None means: close after what came before."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()


@dataclass(eq=False)
class HeldConversation:
    id: str
    analysis: Any  # assist.analysis.conversation.Conversation
    window: int
    messages: deque[Message] = field(init=False)
    customer_texts: deque[str] = field(default_factory=lambda: deque(maxlen=10))
    last_analysis: Analysis | None = None
    last_customer: Message | None = None
    suggestions: dict[str | None, SuggestResult] = field(default_factory=dict)  # by team
    updated_at: float | None = None
    seq: int = 0
    subscribers: set[Subscriber] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.messages = deque(maxlen=self.window)

    def snapshot(self, team: str | None) -> ConversationState:
        return ConversationState(
            messages=list(self.messages),
            analysis=self.last_analysis,
            suggestions=self.suggestions.get(team),
            updated_at=self.updated_at,
        )


class Hub:
    """Holds conversations in memory with an idle TTL and caps; processes each conversation's messages
    one at a time, off the event loop; publishes events to every subscriber's outbox."""

    def __init__(
        self,
        analyzer: Any,
        suggester: Any,
        rewriter: Any,
        usage: Any,
        settings: HubSettings,
        shared: SharedConversations | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.shared = shared  # conversation state in Redis, when instances are linked
        self.broker = broker if shared is not None else None  # events go through it only then
        self._listeners: dict[str, asyncio.Task[None]] = {}
        self.suggester = suggester
        self.rewriter = rewriter
        self.usage = usage
        self.settings = settings
        self.conversations: dict[str, HeldConversation] = {}
        self.connections: set[Any] = set()
        self.closing = False
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._shown: Counter[int] = Counter()
        self.batcher = (
            EncodeBatcher(suggester.searcher.encoder, suggester.searcher.settings.encode_batch)
            if suggester is not None
            else None
        )
        # Analysis and search are pure Python: threads only share the GIL. One at a time, in arrival order,
        # keeps dozens of workers from fighting over it (and the encoder's thread from waiting on them).
        self._cpu = CapacityLimiter(1)
        self._tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._every(self.settings.sweep_seconds, self.sweep)),
            asyncio.create_task(self._every(self.settings.usage_flush_seconds, self.flush_usage)),
        ]

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None] | None]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                result = job()
                if result is not None:
                    await result
            except Exception:  # a failed sweep or flush must not stop the next one
                logger.exception("hub: periodic job %s failed", getattr(job, "__name__", job))

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Refuse new messages, let in-flight ones finish, close every socket with 1001, save counts."""
        self.closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        for conn in list(self.connections):
            conn.close(1001)
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.closed(), timeout)
        for task in [*self._tasks, *self._listeners.values()]:
            task.cancel()
        await self.flush_usage()

    # ---- conversations -----------------------------------------------------------------------------

    def _conversation(self, conversation_id: str, create: bool = True) -> HeldConversation:
        conv = self.conversations.get(conversation_id)
        if conv is not None:
            return conv
        if not create:
            raise UnknownConversation(f"conversation {conversation_id!r} is not held by this hub")
        if len(self.conversations) >= self.settings.max_conversations:
            self.sweep()
        if len(self.conversations) >= self.settings.max_conversations:
            idle = [c for c in self.conversations.values() if not c.subscribers and not c.lock.locked()]
            if not idle:
                raise HubBusy("the hub holds its maximum number of conversations; try again later")
            oldest = min(idle, key=lambda c: c.updated_at or 0.0)
            del self.conversations[oldest.id]
        conv = HeldConversation(conversation_id, self.analyzer.conversation(), self.settings.window)
        self.conversations[conversation_id] = conv
        return conv

    def sweep(self) -> None:
        """Forget conversations idle past the TTL that nobody watches."""
        cutoff = time.time() - self.settings.ttl_seconds
        for cid, conv in list(self.conversations.items()):
            if not conv.subscribers and not conv.lock.locked() and (conv.updated_at or 0.0) < cutoff:
                del self.conversations[cid]

    async def _held(self, conversation_id: str) -> HeldConversation:
        """A conversation this hub holds, or (instances linked) one another instance has seen."""
        if conversation_id not in self.conversations and self.shared is not None:
            if await self.shared.exists(conversation_id):
                conv = self._conversation(conversation_id)
                async with conv.lock:
                    await self._catch_up(conv)
        return self._conversation(conversation_id, create=False)

    async def _catch_up(self, conv: HeldConversation) -> None:
        """Rebuild a conversation from Redis when another instance took messages since (call under its lock)."""
        if self.shared is None:
            return
        seq = await self.shared.seq(conv.id)
        if seq == conv.seq:
            return
        if seq < conv.seq:  # Redis lost the conversation (restarted empty): put back what this instance holds
            held = StoredState(conv.last_analysis, conv.last_customer, dict(conv.suggestions))
            await self.shared.restore(conv.id, conv.seq, list(conv.messages), held)
            return
        window, stored = await self.shared.messages(conv.id), await self.shared.state(conv.id)

        def replay() -> Any:
            analysis = self.analyzer.conversation()
            for m in window:
                analysis.add(m.role, m.text, m.t)
            return analysis

        conv.analysis = await to_thread.run_sync(replay)
        conv.messages = deque(window, maxlen=self.settings.window)
        customers = [m for m in window if m.role == "customer"]
        conv.customer_texts = deque((m.text for m in customers), maxlen=10)
        conv.last_customer = stored.last_customer
        conv.last_analysis = stored.analysis
        conv.suggestions = stored.suggestions
        conv.updated_at = window[-1].t if window else conv.updated_at
        conv.seq = seq

    async def state(self, conversation_id: str, team: str | None = None) -> ConversationState:
        """A held conversation's recent messages, latest analysis and suggestions for `team`."""
        conv = await self._held(conversation_id)
        if self.shared is not None:
            async with conv.lock:
                await self._catch_up(conv)
        await self._ensure_suggestions(conv, team)
        return conv.snapshot(team)

    async def _ensure_suggestions(self, conv: HeldConversation, team: str | None) -> None:
        """Suggestions for the latest customer message as `team` sees the bank, computed once when missing."""
        if conv.last_customer is None or team in conv.suggestions:
            return
        async with conv.lock:
            if team not in conv.suggestions and conv.last_analysis is not None and conv.last_customer is not None:
                earlier = list(reversed(conv.customer_texts))[1:]
                text, analysis = conv.last_customer.text, conv.last_analysis
                conv.suggestions[team] = await to_thread.run_sync(
                    lambda: self.suggester.for_analysis(text, analysis, earlier, team=team), limiter=self._cpu
                )
                if self.shared is not None:
                    await self.shared.save(conv.id, suggestions={team: conv.suggestions[team]})

    async def publish(self, event: Envelope) -> None:
        """Send an event to the conversation's watchers: here, or on every instance when they are linked."""
        if self.broker is not None and self.shared is not None:
            await self.broker.publish(self.shared.channel(event.conversation_id), event.model_dump(mode="json"))
        else:
            self._deliver(event)

    def _deliver(self, event: Envelope) -> None:
        conv = self.conversations.get(event.conversation_id)
        if conv is None:
            return
        frame = event.frame
        watchers = [sub for sub in conv.subscribers if event.reaches(sub.team)]
        for sub in watchers:
            sub.send(frame)
        if watchers and isinstance(frame, SuggestionsOut):
            self._shown.update(item.phrase_id for item in frame.items)

    async def _listen(self, cid: str) -> None:
        """Deliver a linked conversation's events (from any instance) to this instance's watchers."""
        assert self.broker is not None and self.shared is not None
        ready = asyncio.Event()

        async def run() -> None:
            async with self.broker.subscribe(self.shared.channel(cid)) as events:  # type: ignore[union-attr]
                ready.set()
                async for event in events:
                    self._deliver(Envelope.model_validate(event))

        self._listeners[cid] = asyncio.create_task(run())
        await ready.wait()

    # ---- messages ---------------------------------------------------------------------------------

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
        conv = self._conversation(conversation_id)
        self._inflight += 1
        self._idle.clear()
        try:
            async with conv.lock:
                return await self._feed(conv, role, text, t, message_id, answer, team)
        finally:
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()

    async def _feed(
        self,
        conv: HeldConversation,
        role: Role,
        text: str,
        t: float | None,
        message_id: str | None,
        answer: bool,
        team: str | None,
    ) -> FeedResult:
        limit = self.settings.max_text_chars
        now = time.time()

        def build(seq: int) -> Message:
            return Message(
                message_id=message_id or f"m{seq}",
                role=role,
                text=text[:limit],
                t=now if t is None else t,
                truncated=len(text) > limit,
            )

        if self.shared is not None:
            await self._catch_up(conv)
            conv.seq, message = await self.shared.append(conv.id, build)
        else:
            conv.seq += 1
            message = build(conv.seq)
        conv.messages.append(message)
        conv.updated_at = now
        cid, mid = conv.id, message.message_id
        await self.publish(Envelope(conversation_id=cid, frame=MessageOut(conversation_id=cid, message=message)))
        analysis = await to_thread.run_sync(self._analyse, conv, message, limiter=self._cpu)
        out = FeedResult(conversation_id=cid, message=message)
        if analysis is None:
            return out
        earlier = list(reversed(conv.customer_texts))
        conv.customer_texts.append(message.text)
        conv.last_analysis, conv.last_customer = analysis, message
        conv.suggestions = {}
        if self.shared is not None:
            await self.shared.save(cid, analysis=analysis, last_customer=message, clear_suggestions=True)
        await self.publish(
            Envelope(conversation_id=cid, frame=AnalysisOut(conversation_id=cid, message_id=mid, analysis=analysis))
        )
        teams = {sub.team for sub in conv.subscribers} | ({team} if answer else set())
        if self.shared is not None:
            teams |= await self.shared.teams(cid)
        vector = None
        if teams and self.batcher is not None and self.suggester.searcher.uses_dense(analysis.lang):
            vector = await self.batcher.encode(message.text)  # encoded together with other conversations' messages
        for each in sorted(teams, key=lambda x: x or ""):
            result: SuggestResult = await to_thread.run_sync(
                functools.partial(
                    self.suggester.for_analysis, message.text, analysis, earlier, team=each, vector=vector
                ),
                limiter=self._cpu,
            )
            conv.suggestions[each] = result
            if self.shared is not None:
                await self.shared.save(cid, suggestions={each: result})
            frame = SuggestionsOut(
                conversation_id=cid, message_id=mid, lang=result.lang, situations=result.situations, items=result.items
            )
            await self.publish(Envelope(conversation_id=cid, frame=frame, everyone=False, team=each))
        out.analysis = analysis
        if answer:
            out.suggestions = conv.suggestions[team]
        return out

    def _analyse(self, conv: HeldConversation, message: Message) -> Analysis | None:
        """Add the message to the conversation's analysis; what it found, for a customer's message."""
        state = conv.analysis.add(message.role, message.text, message.t)
        return state.to_model() if message.role == "customer" else None

    async def subscribe(self, sub: Subscriber, conversation_id: str) -> ConversationState:
        """Watch a conversation (held or not yet); the current state, with suggestions for sub's team."""
        conv = self._conversation(conversation_id)
        conv.subscribers.add(sub)
        if self.shared is not None:
            await self.shared.add_team(conversation_id, sub.team)
            if conversation_id not in self._listeners or self._listeners[conversation_id].done():
                await self._listen(conversation_id)
            async with conv.lock:
                await self._catch_up(conv)
        await self._ensure_suggestions(conv, sub.team)
        return conv.snapshot(sub.team)

    def unsubscribe(self, sub: Subscriber, conversation_id: str) -> None:
        conv = self.conversations.get(conversation_id)
        if conv is not None:
            conv.subscribers.discard(sub)
            self._stop_listening(conv)

    def drop(self, sub: Subscriber) -> None:
        """A connection went away: it watches nothing any more."""
        for conv in self.conversations.values():
            conv.subscribers.discard(sub)
            self._stop_listening(conv)
        self.connections.discard(sub)

    def _stop_listening(self, conv: HeldConversation) -> None:
        if not conv.subscribers and conv.id in self._listeners:
            self._listeners.pop(conv.id).cancel()

    # ---- drafts and feedback ----------------------------------------------------------------------

    async def rewrite(self, text: str) -> RewriteResult:
        result = await to_thread.run_sync(self.rewriter.rewrite, text[: self.settings.max_text_chars])
        return RewriteResult.model_validate(result.as_dict())

    async def feedback(self, conversation_id: str, phrase_id: int, action: str) -> None:
        await self._held(conversation_id)
        event = "dismissed" if action == "dismissed" else "used"
        await to_thread.run_sync(self.usage.record, phrase_id, event)

    async def flush_usage(self) -> None:
        """Write the batched `shown` counts (one transaction for all phrases)."""
        if not self._shown:
            return
        counts, self._shown = self._shown, Counter()
        try:
            await to_thread.run_sync(self.usage.record_many, {(pid, "shown"): n for pid, n in counts.items()})
        except AssistError:
            self._shown.update(counts)  # keep them for the next flush
            raise
