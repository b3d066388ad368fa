"""The open websocket connections of this instance, closed together at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any, Protocol


class Connection(Protocol):
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
