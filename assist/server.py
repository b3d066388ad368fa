"""uvicorn's Server with one change: on shutdown the hub drains first, so sockets close with 1001, not 1012."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn


class AssistServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app: Any = self.config.loaded_app
        while hasattr(app, "app") and not hasattr(app, "state"):
            app = app.app  # unwrap uvicorn's middleware
        hub = getattr(getattr(app, "state", None), "hub", None)
        if hub is not None:
            await hub.shutdown()
        await super().shutdown(sockets)
