"""uvicorn's Server with two changes: on shutdown the hub drains first, so sockets close with 1001, not 1012;
and, for `assist serve`, start-up's objects (and the model's, once loaded) are frozen out of the garbage
collector. The process tuning `assist serve` does (mmap threshold, GC freeze, GIL switch interval) lives here and
nowhere else: tests and embedding applications run the app untuned."""

from __future__ import annotations

import ctypes
import gc
import logging
import socket
import sys
import time
from typing import Any

import uvicorn

from assist.config import Settings

logger = logging.getLogger(__name__)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)


def fix_mmap_threshold(nbytes: int) -> None:
    """Serve allocations of `nbytes` and more with mmap, always: freed, they go straight back to the system.
    glibc's default threshold moves up as large blocks are freed, after which such blocks come from the heaps
    of whichever threads made them and fragment them. No-op for 0 or where libc is not glibc."""
    if nbytes <= 0:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, nbytes)
    except (OSError, AttributeError):
        pass


def freeze_long_lived(what: str) -> None:
    """Collect garbage, then move every object alive now out of the cyclic garbage collector's reach.

    Start-up leaves about half a million long-lived objects (jieba's dictionary, the index, the lexicons); a
    full collection walks them all and held every thread for about 270 ms, which was the slowest answer of
    most benchmark runs. They live as long as the process, so the collector need not look at them again;
    objects made later are collected as usual. Only `assist serve` freezes: tests build many apps in one
    process and keep collecting."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    logger.info(
        "%s frozen out of the garbage collector: %d objects in all, %.0f ms",
        what,
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )


def tune_process(settings: Settings) -> None:
    """`assist serve` only: the GIL switch interval and glibc's mmap threshold, before anything is built."""
    sys.setswitchinterval(settings.switch_interval)
    fix_mmap_threshold(settings.malloc_mmap_threshold)


def _unwrap(app: Any) -> Any:
    while hasattr(app, "app") and not hasattr(app, "state"):
        app = app.app  # unwrap uvicorn's middleware
    return app


class AssistServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, freeze: bool = False) -> None:
        super().__init__(config)
        self.freeze = freeze  # `assist serve`: a process of its own (tests run several servers in one)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.freeze and not self.should_exit:
            services = getattr(getattr(_unwrap(self.config.loaded_app), "state", None), "services", None)
            loader = services.suggester.searcher.model_loader if services is not None else None
            if loader is not None:  # hooked before the freeze: a model loaded in between is frozen with the rest
                loader.after_load = lambda: freeze_long_lived("model objects")
            freeze_long_lived("start-up objects")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = _unwrap(self.config.loaded_app)
        hub = getattr(getattr(app, "state", None), "hub", None)
        if hub is not None:
            await hub.shutdown()
        await super().shutdown(sockets)
