"""Where a conversation's messages and latest results live: in this process (`memory://`, the default) or in
Redis (`redis://…`, so linked instances share them). Chosen by URL, as the broker is (assist.broker).

The hub holds each conversation it serves (assist.hub.registry) and reads the store's sequence number to
know whether another instance took messages since; with the memory store that never happens."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from assist.redis_client import redis_client, redis_errors
from assist.schemas import Analysis, Message, SuggestResult


@dataclass(slots=True)
class StoredState:
    """A conversation's latest results, as the store holds them."""

    analysis: Analysis | None = None
    last_customer: Message | None = None
    suggestions: dict[str | None, SuggestResult] = field(default_factory=dict)  # by team
    owner: str | None = None


class ConversationStore(Protocol):
    """The messages (a window of the latest), sequence number, latest results and watching teams of each
    conversation."""

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def seq(self, cid: str) -> int: ...

    async def exists(self, cid: str) -> bool: ...

    async def append(self, cid: str, build: Callable[[int], Message], owner: str | None = None) -> tuple[int, Message]:
        """Store a new message, built from its number in the conversation (1, 2, …); both. The first message's
        `owner` (the team of the integration that fed it) owns the conversation."""
        ...

    async def owner(self, cid: str) -> str | None:
        """The team the conversation belongs to (None: every team's)."""
        ...

    async def restore(self, cid: str, seq: int, messages: list[Message], state: StoredState) -> None:
        """Put back what an instance holds after the store lost it (Redis restarted without persistence)."""
        ...

    async def messages(self, cid: str) -> list[Message]: ...

    async def save(
        self,
        cid: str,
        *,
        analysis: Analysis | None = None,
        last_customer: Message | None = None,
        suggestions: dict[str | None, SuggestResult] | None = None,
        clear_suggestions: bool = False,
    ) -> None:
        """Set the fields given; `clear_suggestions` drops every team's old ones first."""
        ...

    async def state(self, cid: str) -> StoredState: ...

    async def add_team(self, cid: str, team: str | None) -> None: ...

    async def teams(self, cid: str) -> set[str | None]: ...

    def forget(self, cid: str) -> None:
        """This instance no longer holds the conversation (swept or evicted)."""
        ...


@dataclass(slots=True)
class _Held:
    seq: int
    messages: deque[Message]
    state: StoredState = field(default_factory=StoredState)
    teams: set[str | None] = field(default_factory=set)
    owner: str | None = None


class MemoryConversations:
    """One process: the conversations live as long as the hub holds them (it calls `forget`)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._items: dict[str, _Held] = {}

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _get(self, cid: str) -> _Held:
        held = self._items.get(cid)
        if held is None:
            held = self._items[cid] = _Held(0, deque(maxlen=self.window))
        return held

    async def seq(self, cid: str) -> int:
        held = self._items.get(cid)
        return held.seq if held else 0

    async def exists(self, cid: str) -> bool:
        held = self._items.get(cid)
        return held is not None and held.seq > 0

    async def append(self, cid: str, build: Callable[[int], Message], owner: str | None = None) -> tuple[int, Message]:
        held = self._get(cid)
        if held.seq == 0:
            held.owner = owner
        held.seq += 1
        message = build(held.seq)
        held.messages.append(message)
        return held.seq, message

    async def owner(self, cid: str) -> str | None:
        held = self._items.get(cid)
        return held.owner if held else None

    async def restore(self, cid: str, seq: int, messages: list[Message], state: StoredState) -> None:
        self._items[cid] = _Held(seq, deque(messages, maxlen=self.window), state, owner=state.owner)

    async def messages(self, cid: str) -> list[Message]:
        held = self._items.get(cid)
        return list(held.messages) if held else []

    async def save(
        self,
        cid: str,
        *,
        analysis: Analysis | None = None,
        last_customer: Message | None = None,
        suggestions: dict[str | None, SuggestResult] | None = None,
        clear_suggestions: bool = False,
    ) -> None:
        state = self._get(cid).state
        if clear_suggestions:
            state.suggestions = {}
        state.suggestions.update(suggestions or {})
        if analysis is not None:
            state.analysis = analysis
        if last_customer is not None:
            state.last_customer = last_customer

    async def state(self, cid: str) -> StoredState:
        held = self._items.get(cid)
        if held is None:
            return StoredState()
        s = held.state
        return StoredState(s.analysis, s.last_customer, dict(s.suggestions))

    async def add_team(self, cid: str, team: str | None) -> None:
        self._get(cid).teams.add(team)

    async def teams(self, cid: str) -> set[str | None]:
        held = self._items.get(cid)
        return set(held.teams) if held else set()

    def forget(self, cid: str) -> None:
        self._items.pop(cid, None)


class RedisConversations:
    """Conversations in Redis, so any instance can take a conversation's next message or agent. Per
    conversation, with the hub's idle TTL on every key:

    - `<p>:conv:<id>:seq` — messages so far (INCR gives the next message number);
    - `<p>:conv:<id>:messages` — the last `window` messages, JSON;
    - `<p>:conv:<id>:state` — hash: `analysis`, `last_customer`, `suggestions:<team>` (JSON of their models);
    - `<p>:conv:<id>:teams` — the teams whose agents watch it, anywhere.
    """

    def __init__(self, url: str, prefix: str, ttl: float, window: int) -> None:
        self.url, self.prefix, self.ttl, self.window = url, prefix, int(ttl), window
        self._redis: Any = None

    async def connect(self) -> None:
        self._redis = redis_client(self.url)
        await self._redis.ping()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    def _key(self, cid: str, part: str) -> str:
        return f"{self.prefix}:conv:{cid}:{part}"

    def forget(self, cid: str) -> None:
        return None  # other instances may hold it; Redis forgets it after the TTL

    @redis_errors
    async def seq(self, cid: str) -> int:
        return int(await self._redis.get(self._key(cid, "seq")) or 0)

    @redis_errors
    async def exists(self, cid: str) -> bool:
        return bool(await self._redis.exists(self._key(cid, "seq")))

    @redis_errors
    async def append(self, cid: str, build: Callable[[int], Message], owner: str | None = None) -> tuple[int, Message]:
        """Store a new message, built from its number in the conversation (1, 2, …); both."""
        seq_key, messages = self._key(cid, "seq"), self._key(cid, "messages")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(seq_key)
            pipe.expire(seq_key, self.ttl)
            pipe.set(self._key(cid, "owner"), json.dumps(owner), nx=True, ex=self.ttl)
            pipe.expire(self._key(cid, "owner"), self.ttl)
            seq = (await pipe.execute())[0]
        message = build(int(seq))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(messages, message.model_dump_json())
            pipe.ltrim(messages, -self.window, -1)
            pipe.expire(messages, self.ttl)
            await pipe.execute()
        return int(seq), message

    @redis_errors
    async def owner(self, cid: str) -> str | None:
        raw = await self._redis.get(self._key(cid, "owner"))
        owner: str | None = json.loads(raw) if raw else None
        return owner

    @redis_errors
    async def restore(self, cid: str, seq: int, messages: list[Message], state: StoredState) -> None:
        """Put back what this instance holds after Redis lost it (a restart without persistence)."""
        seq_key, window = self._key(cid, "seq"), self._key(cid, "messages")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(seq_key, seq, ex=self.ttl)
            pipe.set(self._key(cid, "owner"), json.dumps(state.owner), ex=self.ttl)
            pipe.delete(window)
            if messages:
                pipe.rpush(window, *(m.model_dump_json() for m in messages[-self.window :]))
                pipe.expire(window, self.ttl)
            await pipe.execute()
        await self.save(cid, analysis=state.analysis, last_customer=state.last_customer, suggestions=state.suggestions)

    @redis_errors
    async def messages(self, cid: str) -> list[Message]:
        return [Message.model_validate_json(m) for m in await self._redis.lrange(self._key(cid, "messages"), 0, -1)]

    @redis_errors
    async def save(
        self,
        cid: str,
        *,
        analysis: Analysis | None = None,
        last_customer: Message | None = None,
        suggestions: dict[str | None, SuggestResult] | None = None,
        clear_suggestions: bool = False,
    ) -> None:
        """Set the state fields given (JSON in a hash); `clear_suggestions` drops every team's old ones."""
        key = self._key(cid, "state")
        fields: dict[str, BaseModel] = {team_field(team): result for team, result in (suggestions or {}).items()}
        if analysis is not None:
            fields["analysis"] = analysis
        if last_customer is not None:
            fields["last_customer"] = last_customer
        async with self._redis.pipeline(transaction=True) as pipe:
            if clear_suggestions:
                old = [
                    f
                    for f in await self._redis.hkeys(key)
                    if (f.decode() if isinstance(f, bytes) else f).startswith("suggestions:")
                ]
                if old:
                    pipe.hdel(key, *old)
            if fields:
                pipe.hset(key, mapping={k: v.model_dump_json() for k, v in fields.items()})
            pipe.expire(key, self.ttl)
            await pipe.execute()

    @redis_errors
    async def state(self, cid: str) -> StoredState:
        raw = await self._redis.hgetall(self._key(cid, "state"))
        out = StoredState()
        for k, v in raw.items():
            name = k.decode() if isinstance(k, bytes) else k
            if name == "analysis":
                out.analysis = Analysis.model_validate_json(v)
            elif name == "last_customer":
                out.last_customer = Message.model_validate_json(v)
            elif name.startswith("suggestions:"):
                out.suggestions[name.split(":", 1)[1] or None] = SuggestResult.model_validate_json(v)
        return out

    @redis_errors
    async def add_team(self, cid: str, team: str | None) -> None:
        key = self._key(cid, "teams")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, team or "")
            pipe.expire(key, self.ttl)
            await pipe.execute()

    @redis_errors
    async def teams(self, cid: str) -> set[str | None]:
        return {
            (t.decode() if isinstance(t, bytes) else t) or None
            for t in await self._redis.smembers(self._key(cid, "teams"))
        }


def team_field(team: str | None) -> str:
    return f"suggestions:{team or ''}"


def create_conversation_store(url: str | None, *, prefix: str, ttl: float, window: int) -> ConversationStore:
    """`memory://` (or nothing) for one process; `redis://host:port/db` to share conversations between instances."""
    if not url or url.startswith("memory://"):
        return MemoryConversations(window)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisConversations(url, prefix, ttl, window)
    raise ValueError(f"unknown conversation store URL {url!r}: use memory:// or redis://host:port/db")
