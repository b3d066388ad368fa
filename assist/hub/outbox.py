"""A connection's bounded send queue."""

from __future__ import annotations

import asyncio
from collections import deque

from assist.protocol import ServerFrame

DROPPABLE = frozenset({"analysis", "suggestions", "message"})


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
