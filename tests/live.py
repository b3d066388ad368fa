"""A real uvicorn server on a free loopback port, run in a thread, for tests that need real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from assist.app import create_app
from assist.config import Settings
from assist.hub import Hub
from assist.retrieval.embedder import Encoder
from assist.server import AssistServer
from tests.fakes import fake_services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    server: AssistServer
    thread: threading.Thread
    port: int
    app: FastAPI

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.hub
        return hub

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@contextmanager
def live_server(settings: Settings, encoder: Encoder | None = None) -> Iterator[LiveServer]:
    """A server in a thread; with `encoder` (tests/fakes.py) in place of the settings' model."""
    port = free_port()
    app = create_app(settings, fake_services(settings, encoder) if encoder is not None else None)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws_max_size=settings.hub.max_frame_bytes * 8,
    )
    server = AssistServer(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    live = LiveServer(server, thread, port, app)
    try:
        yield live
    finally:
        live.stop()


def serve_process(env: Mapping[str, str | None], output: int = subprocess.DEVNULL) -> tuple[subprocess.Popen[str], str]:
    """`assist serve` as a process of its own (so it can be killed outright) on a free loopback port: the
    environment with `env` on top (None unsets a variable). Returns it and its base URL at once."""
    port = free_port()
    merged = {**os.environ, **env, "ASSIST_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assist", "serve"],
        env={k: v for k, v in merged.items() if v is not None},
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_health(proc: subprocess.Popen[str], base: str, seconds: float = 180) -> dict:  # type: ignore[type-arg]
    """The body of the first 200 from `/api/health`; fails if the process exits or the time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            r = httpx.get(f"{base}/api/health", timeout=1)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"assist serve at {base} did not answer (exit code {proc.poll()})")
