"""The open websocket connections of this instance, closed together at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

from anyio import to_thread

from assist.auth import Principal, TokenStore
from assist.protocol import ServerFrame, error


class Connection(Protocol):
    principal: Principal | None

    def send(self, frame: ServerFrame) -> None: ...

    def close(self, code: int) -> None: ...

    async def closed(self) -> None: ...


class Connections:
    def __init__(self) -> None:
        self._open: set[Any] = set()

    def add(self, conn: Connection) -> None:
        self._open.add(conn)

    def discard(self, conn: Connection) -> None:
        self._open.discard(conn)

    def __len__(self) -> int:
        return len(self._open)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._open))

    async def recheck(self, tokens: TokenStore) -> int:
        """Close (1008) every connection whose token was revoked since it authenticated; how many."""
        ids = {c.principal.token_id for c in self if c.principal is not None and c.principal.token_id is not None}
        revoked = await to_thread.run_sync(tokens.revoked_among, ids)
        gone = [c for c in self if c.principal is not None and c.principal.token_id in revoked]
        for conn in gone:
            conn.send(error("token_revoked", "the token of this connection was revoked"))
            conn.close(1008)
        return len(gone)

    async def close_all(self, code: int, timeout: float) -> None:
        """Close every connection with `code` after what it has queued; wait up to `timeout` for each."""
        for conn in self:
            conn.close(code)
        for conn in self:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.closed(), timeout)


class InFlight:
    """Counts the messages being processed, so shutdown can wait for the last one."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __enter__(self) -> None:
        self.count += 1
        self._idle.clear()

    def __exit__(self, *exc: object) -> None:
        self.count -= 1
        if not self.count:
            self._idle.set()

    async def settled(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
