"""The Redis client every Redis-backed part uses, and the one error Redis failures become."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from assist.errors import BrokerUnavailable

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
