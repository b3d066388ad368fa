"""The app factory: settings in, FastAPI out; the lifespan builds the shared services once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assist import __version__, languages
from assist.analysis import Analyzer
from assist.api import api_router
from assist.auth import TokenStore, open_access
from assist.bank.notices import BankChanges
from assist.bank.store import PhraseStore
from assist.bank.usage import UsageStore
from assist.broker import create_broker
from assist.config import Settings, get_settings
from assist.demo import play_demo
from assist.errors import install_handlers
from assist.hub import Hub
from assist.rewrite import Rewriter
from assist.services import build_suggester
from assist.shared import SharedConversations
from assist.suggest import Suggester
from assist.web import mount_web
from assist.ws import router as ws_router

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    settings: Settings = app.state.settings
    languages.use(settings.language_dirs)
    store = PhraseStore.connect(settings.sqlalchemy_url)
    if settings.seed_phrasebank:
        store.seed(settings.phrasebank_dir)
    tokens = TokenStore(store.db)
    usage = UsageStore(store.db)
    if open_access(settings, tokens):
        logger.warning(
            "OPEN ACCESS: bound to %s with no tokens configured, so every request acts as a lead. "
            "Create tokens with `assist token create --role lead` to require them.",
            settings.host,
        )
    elif tokens.active_count() == 0:
        logger.warning("no tokens configured and not bound to loopback: every API call will be refused (401). "
                       "Create one with `assist token create --role lead`.")
    hub: Hub | None = None
    demo: asyncio.Task[None] | None = None
    broker = create_broker(settings.broker_url)
    notices: asyncio.Task[None] | None = None
    changes: BankChanges | None = None
    shared: SharedConversations | None = None
    suggester: Suggester | None = None
    try:
        await broker.connect()
        analyzer = Analyzer.load()
        suggester = build_suggester(settings, store, analyzer,
                                    background=settings.retrieval.model_load == "background")
        # Every bank change reaches the index through the broker, this instance's too (off the request thread);
        # app.state.bank_changes.settled() waits for this instance's changes to be in its index.
        changes = app.state.bank_changes = BankChanges(broker, settings.broker_prefix, store, suggester.searcher)
        notices = await changes.start()
        rewriter = Rewriter.load(default_lang=settings.default_lang)
        if settings.broker_url:  # linked instances keep conversations in Redis
            shared = SharedConversations(settings.broker_url, settings.broker_prefix, settings.hub.ttl_seconds,
                                         settings.hub.window)
            await shared.connect()
        hub = app.state.hub = Hub(analyzer, suggester, rewriter, usage, settings.hub, shared=shared, broker=broker)
        hub.start()
        if settings.demo:
            demo = asyncio.create_task(play_demo(hub))
        yield {"settings": settings, "store": store, "usage": usage, "tokens": tokens, "analyzer": analyzer,
               "suggester": suggester, "rewriter": rewriter, "hub": hub}
    finally:
        for task in (demo, notices):
            if task is not None:
                task.cancel()
        if changes is not None:
            await changes.stop()
        if hub is not None:
            await hub.shutdown()
        if shared is not None:
            await shared.close()
        await broker.disconnect()
        if suggester is not None and suggester.searcher.model_loader is not None:
            await asyncio.to_thread(suggester.searcher.model_loader.stop)
        store.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Agent Assist",
        version=__version__,
        summary="Real-time reply assistant for customer-service chat.",
        lifespan=lifespan,
    )
    app.state.settings = settings or get_settings()
    install_handlers(app)
    if app.state.settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=app.state.settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    app.include_router(api_router, prefix="/api")
    app.include_router(ws_router)
    mount_web(app, app.state.settings.web_dir)
    return app
