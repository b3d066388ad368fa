"""The conversations this instance holds: created on first use, swept when idle past the TTL, the oldest idle
one evicted at the cap; and brought up to date from the conversation store when another instance moved on."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from anyio import to_thread

from assist.auth import Principal
from assist.config import HubSettings
from assist.errors import AssistError, Forbidden, NotFound
from assist.hub.store import ConversationStore, StoredState
from assist.protocol import ServerFrame
from assist.schemas import Analysis, ConversationState, Message, SuggestResult

RECENT_CUSTOMER = 10  # customer messages kept for topic carry-over and their vectors (feedback)
# A held conversation's memory, estimated from its window's texts: measured 2.64 MB for 50 messages of 20,000
# characters (2.0 MB of text) with the analysis state and results (2026-12-02, tracemalloc), so text x 1.3 plus
# a fixed part for the analysis and results of a short conversation.
TEXT_FACTOR, FIXED_BYTES = 1.3, 16_384


class HubBusy(AssistError):
    status, code = 503, "busy"


class UnknownConversation(NotFound):
    code = "unknown_conversation"


class Subscriber(Protocol):
    """A connection that receives a conversation's events."""

    @property
    def team(self) -> str | None: ...

    @property
    def role(self) -> str: ...

    @property
    def key(self) -> str:
        """The principal, for per-principal limits."""
        ...

    def send(self, frame: ServerFrame) -> None: ...


@dataclass(eq=False)
class HeldConversation:
    id: str
    analysis: Any  # assist.analysis.conversation.Conversation
    window: int
    messages: deque[Message] = field(init=False)
    customer_texts: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_CUSTOMER))
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # message id -> query vector, recent customers
    last_analysis: Analysis | None = None
    last_customer: Message | None = None
    suggestions: dict[str | None, SuggestResult] = field(default_factory=dict)  # by team
    updated_at: float | None = None
    seq: int = 0
    bytes: int = 0  # estimated memory (TEXT_FACTOR, FIXED_BYTES)
    owner: str | None = None  # the team it belongs to (assist.auth.may_see)
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

    def took(self, message: Message, analysis: Analysis) -> list[str]:
        """A customer message was analysed: it is the latest now; the earlier customer texts, newest first."""
        earlier = list(reversed(self.customer_texts))
        self.customer_texts.append(message.text)
        self.last_analysis, self.last_customer, self.suggestions = analysis, message, {}
        return earlier

    def remember_vector(self, message_id: str, vector: np.ndarray) -> None:
        self.vectors[message_id] = vector
        while len(self.vectors) > RECENT_CUSTOMER:
            del self.vectors[next(iter(self.vectors))]


def _age(conv: HeldConversation) -> float:
    return conv.updated_at or 0.0


def check_access(viewer: Principal, conv: HeldConversation) -> None:
    if not viewer.may_see(conv.owner):
        raise Forbidden(f"conversation {conv.id!r} belongs to another team")


class ConversationRegistry:
    """Held conversations by id, with an idle TTL and a cap; `clock` gives the time (tests pass their own)."""

    def __init__(
        self,
        settings: HubSettings,
        new_analysis: Callable[[], Any],
        store: ConversationStore,
        clock: Callable[[], float] = time.time,
        watched: Callable[[str], bool] = lambda cid: False,
    ) -> None:
        self.settings = settings
        self.watched = watched
        self.new_analysis = new_analysis
        self.store = store
        self.clock = clock
        self.held: dict[str, HeldConversation] = {}
        self.bytes = 0  # estimated memory of every held conversation

    def reserve(self, conv: HeldConversation, text: str) -> None:
        """Make room (evicting the oldest idle conversations) for `text` joining `conv`'s window, or refuse with
        HubBusy when the memory budget (`max_memory_mb`) is spent on conversations in use."""
        window = [m.text for m in conv.messages][-(self.settings.window - 1) :] if self.settings.window > 1 else []
        estimate = int(sum(sys.getsizeof(t) for t in [*window, text]) * TEXT_FACTOR) + FIXED_BYTES
        budget = self.settings.max_memory_mb * 2**20
        if self.bytes - conv.bytes + estimate > budget:
            for victim in sorted((c for c in self.held.values() if c is not conv and not self.busy(c)), key=_age):
                self._forget(victim)
                if self.bytes - conv.bytes + estimate <= budget:
                    break
            else:
                raise HubBusy("the hub's memory for conversations is in use; try again later")
        self.bytes += estimate - conv.bytes
        conv.bytes = estimate

    def __contains__(self, cid: str) -> bool:
        return cid in self.held

    def __iter__(self) -> Iterator[HeldConversation]:
        return iter(list(self.held.values()))

    def get(self, cid: str, create: bool = True) -> HeldConversation:
        conv = self.held.get(cid)
        if conv is not None:
            return conv
        if not create:
            raise UnknownConversation(f"conversation {cid!r} is not held by this hub")
        if len(self.held) >= self.settings.max_conversations:
            self.sweep()
        if len(self.held) >= self.settings.max_conversations:
            idle = [c for c in self.held.values() if not self.busy(c)]
            if not idle:
                raise HubBusy("the hub holds its maximum number of conversations; try again later")
            self._forget(min(idle, key=_age))
        conv = self.held[cid] = HeldConversation(cid, self.new_analysis(), self.settings.window)
        return conv

    def sweep(self) -> None:
        """Forget conversations idle past the TTL that nobody watches."""
        cutoff = self.clock() - self.settings.ttl_seconds
        for conv in list(self.held.values()):
            if not self.busy(conv) and (conv.updated_at or 0.0) < cutoff:
                self._forget(conv)

    def release(self, cid: str) -> None:
        """Nobody here watches `cid` any more: a conversation never fed here is forgotten by the store too."""
        if cid not in self.held:
            self.store.forget(cid)

    def busy(self, conv: HeldConversation) -> bool:
        return self.watched(conv.id) or conv.lock.locked()

    def _forget(self, conv: HeldConversation) -> None:
        del self.held[conv.id]
        self.bytes -= conv.bytes
        self.store.forget(conv.id)

    async def find(self, cid: str) -> HeldConversation:
        """A conversation held here, or one the store knows (another instance took it), brought up to date."""
        if cid not in self.held and await self.store.exists(cid):
            conv = self.get(cid)
            async with conv.lock:
                await self.catch_up(conv)
        return self.get(cid, create=False)

    async def catch_up(self, conv: HeldConversation) -> None:
        """Rebuild a conversation from the store when another instance took messages since (under its lock)."""
        seq = await self.store.seq(conv.id)
        if seq == conv.seq:
            return
        if seq < conv.seq:  # the store lost the conversation (Redis restarted empty): put back what is held here
            held = StoredState(conv.last_analysis, conv.last_customer, dict(conv.suggestions), conv.owner)
            await self.store.restore(conv.id, conv.seq, list(conv.messages), held)
            return
        window, stored = await self.store.messages(conv.id), await self.store.state(conv.id)

        def replay() -> Any:
            analysis = self.new_analysis()
            for m in window:
                analysis.add(m.role, m.text, m.t)
            return analysis

        conv.analysis = await to_thread.run_sync(replay)
        conv.messages = deque(window, maxlen=self.settings.window)
        conv.customer_texts = deque((m.text for m in window if m.role == "customer"), maxlen=RECENT_CUSTOMER)
        conv.last_customer, conv.last_analysis = stored.last_customer, stored.analysis
        conv.suggestions = stored.suggestions
        conv.updated_at = window[-1].t if window else conv.updated_at
        conv.seq, conv.owner = seq, await self.store.owner(conv.id)
