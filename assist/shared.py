"""Conversation state in Redis, so any instance can take a conversation's next message or agent."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel

from assist.errors import BrokerUnavailable
from assist.schemas import Analysis, Message, SuggestResult

P = ParamSpec("P")
R = TypeVar("R")


def redis_errors(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Redis gone (restart, network): a clear 503 `broker_unavailable`, not an internal error."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from redis.exceptions import RedisError

        try:
            return await fn(*args, **kwargs)
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"Redis is unavailable ({type(exc).__name__}); try again shortly") from exc

    return wrapper


@dataclass(slots=True)
class StoredState:
    """A conversation's state as Redis holds it, read back into its models."""

    analysis: Analysis | None = None
    last_customer: Message | None = None
    suggestions: dict[str | None, SuggestResult] = field(default_factory=dict)  # by team


class SharedConversations:
    """Per conversation, with the hub's idle TTL on every key:

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

    def channel(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}"

    @redis_errors
    async def seq(self, cid: str) -> int:
        return int(await self._redis.get(self._key(cid, "seq")) or 0)

    @redis_errors
    async def exists(self, cid: str) -> bool:
        return bool(await self._redis.exists(self._key(cid, "seq")))

    @redis_errors
    async def append(self, cid: str, build: Callable[[int], Message]) -> tuple[int, Message]:
        """Store a new message, built from its number in the conversation (1, 2, …); both."""
        seq_key, messages = self._key(cid, "seq"), self._key(cid, "messages")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(seq_key)
            pipe.expire(seq_key, self.ttl)
            seq = (await pipe.execute())[0]
        message = build(int(seq))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(messages, message.model_dump_json())
            pipe.ltrim(messages, -self.window, -1)
            pipe.expire(messages, self.ttl)
            await pipe.execute()
        return int(seq), message

    @redis_errors
    async def restore(self, cid: str, seq: int, messages: list[Message], state: StoredState) -> None:
        """Put back what this instance holds after Redis lost it (a restart without persistence)."""
        seq_key, window = self._key(cid, "seq"), self._key(cid, "messages")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(seq_key, seq, ex=self.ttl)
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


def redis_client(url: str) -> Any:
    """A Redis client that retries a dead pooled connection (Redis restarted) before giving up."""
    import redis.asyncio as redis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return redis.from_url(
        url,
        health_check_interval=10,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 4),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


def team_field(team: str | None) -> str:
    return f"suggestions:{team or ''}"
