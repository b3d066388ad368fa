"""A connection's bounded send queue."""

from __future__ import annotations

import asyncio
from collections import deque

from assist.protocol import ServerFrame

DROPPABLE = frozenset({"analysis", "suggestions", "message"})


class Outbox:
    """A bounded send queue, so a slow client never blocks the hub.

    Events (message, analysis, suggestions) are droppable: with `maxsize` frames queued, a new event pushes out
    the oldest queued event, or is dropped itself when none is queued. Replies to the client's own frames
    (ack, pong, error, subscribed, rewrite, ...) are never dropped; with `limit` frames queued, a new reply
    pushes out the oldest queued event, and when none is queued the client cannot keep up: the outbox
    `overflowed`, empties and takes nothing more (the connection closes with 1013)."""

    def __init__(self, maxsize: int, limit: int | None = None) -> None:
        self.maxsize = maxsize
        self.limit = max(limit if limit is not None else 4 * maxsize, maxsize)
        self._items: deque[ServerFrame | None] = deque()
        self._ready = asyncio.Event()
        self.dropped = 0
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, frame: ServerFrame | None) -> None:
        if self.overflowed:
            return
        droppable = frame is not None and frame.type in DROPPABLE
        if frame is not None and len(self._items) >= (self.maxsize if droppable else self.limit):
            victim = next((i for i, f in enumerate(self._items) if f is not None and f.type in DROPPABLE), None)
            self.dropped += 1
            if victim is not None:
                del self._items[victim]  # the oldest event makes room
            elif droppable:
                return
            else:
                self.overflowed = True
                self.dropped += len(self._items)
                self._items.clear()
                self._ready.set()  # get() answers None from now on
                return
        self._items.append(frame)
        self._ready.set()

    async def get(self) -> ServerFrame | None:
        """The next frame; None means: close after what came before (or the outbox overflowed)."""
        while not self._items:
            if self.overflowed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()
