"""Browser fixtures: Debian's Chromium driven by Playwright, against real servers on free loopback ports."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assist.auth import TokenStore
from assist.bank.store import PhraseStore
from assist.config import Settings
from tests.live import LiveServer, free_port, live_server
from tests.web.browser import ARGS, CHROMIUM


@pytest.fixture(scope="module")
def server(shipped_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Open access (loopback, no tokens) over the shipped bank."""
    data = tmp_path_factory.mktemp("web")
    shutil.copy(shipped_db, data / "assist.db")
    with live_server(Settings(_env_file=None, data_dir=data)) as live:  # type: ignore[call-arg]
        yield live


@pytest.fixture(scope="module")
def secured(shipped_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """Tokens configured, so every page has to sign in: returns the server and a secret per role."""
    data = tmp_path_factory.mktemp("web-secured")
    shutil.copy(shipped_db, data / "assist.db")
    settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    store = PhraseStore.connect(settings.sqlalchemy_url)
    tokens = TokenStore(store)
    secrets = {role: tokens.create(f"web-{role}", role)[1] for role in ("lead", "agent", "integration")}
    store.close()
    with live_server(settings) as live:
        yield live, secrets


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == [], errors  # no script errors on any page


class _HostPages(BaseHTTPRequestHandler):
    pages: dict[str, str] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path, "not found").encode()
        self.send_response(200 if self.path in self.pages else 404)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def host_site() -> Iterator[tuple[str, dict[str, str]]]:
    """A helpdesk page on another origin (another loopback port), to embed the widget in: (origin, pages)."""
    pages: dict[str, str] = {}
    handler = type("HostPages", (_HostPages,), {"pages": pages})
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", pages
    httpd.shutdown()
    httpd.server_close()
