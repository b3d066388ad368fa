"""uvicorn's Server with two changes: on shutdown the hub drains first, so sockets close with 1001, not 1012;
and, for `assist serve`, start-up's objects are frozen out of the garbage collector."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn

from assist.services import freeze_long_lived


class AssistServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, freeze: bool = False) -> None:
        super().__init__(config)
        self.freeze = freeze  # `assist serve`: a process of its own (tests run several servers in one)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.freeze and not self.should_exit:
            freeze_long_lived("start-up objects")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app: Any = self.config.loaded_app
        while hasattr(app, "app") and not hasattr(app, "state"):
            app = app.app  # unwrap uvicorn's middleware
        hub = getattr(getattr(app, "state", None), "hub", None)
        if hub is not None:
            await hub.shutdown()
        await super().shutdown(sockets)

