"""uvicorn's Server with two changes: on shutdown the hub drains first, so sockets close with 1001, not 1012;
and, for `assist serve`, start-up's objects are frozen out of the garbage collector."""

from __future__ import annotations

import gc
import logging
import socket
import time
from typing import Any

import uvicorn

logger = logging.getLogger(__name__)


class AssistServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, freeze: bool = False) -> None:
        super().__init__(config)
        self.freeze = freeze  # `assist serve`: a process of its own (tests run several servers in one)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.freeze and not self.should_exit:
            freeze_startup_objects()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app: Any = self.config.loaded_app
        while hasattr(app, "app") and not hasattr(app, "state"):
            app = app.app  # unwrap uvicorn's middleware
        hub = getattr(getattr(app, "state", None), "hub", None)
        if hub is not None:
            await hub.shutdown()
        await super().shutdown(sockets)


def freeze_startup_objects() -> None:
    """Collect start-up's garbage, then move every object alive now out of the cyclic garbage collector's reach.

    Start-up leaves about half a million long-lived objects (jieba's dictionary, the index, the lexicons); a
    full collection walks them all and held every thread for about 270 ms, which was the slowest answer of
    most benchmark runs. They live as long as the process, so the collector need not look at them again;
    objects made later are collected as usual. `services` freezes the model's objects too once a model
    loaded in the background is ready (only where start-up froze, so tests that build many apps in one
    process keep collecting)."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    logger.info("start-up objects frozen out of the garbage collector: %d in %.0f ms", gc.get_freeze_count(),
                (time.perf_counter() - started) * 1000)
