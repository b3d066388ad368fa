"""The app factory: settings in, FastAPI out; the lifespan builds the shared services once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from assist import __version__
from assist.analysis import Analyzer
from assist.api import api_router
from assist.auth import TokenStore, open_access
from assist.bank.store import PhraseStore
from assist.config import Settings, get_settings
from assist.errors import install_handlers
from assist.services import build_suggester

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    settings: Settings = app.state.settings
    store = PhraseStore.connect(settings.sqlalchemy_url)
    if settings.seed_phrasebank:
        store.seed(settings.phrasebank_dir)
    tokens = TokenStore(store)
    if open_access(settings, tokens):
        logger.warning(
            "OPEN ACCESS: bound to %s with no tokens configured, so every request acts as a lead. "
            "Create tokens with `assist token create --role lead` to require them.",
            settings.host,
        )
    elif tokens.active_count() == 0:
        logger.warning("no tokens configured and not bound to loopback: every API call will be refused (401). "
                       "Create one with `assist token create --role lead`.")
    try:
        analyzer = Analyzer.load()
        suggester = build_suggester(settings, store, analyzer)
        yield {"settings": settings, "store": store, "tokens": tokens, "analyzer": analyzer, "suggester": suggester}
    finally:
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
    app.include_router(api_router, prefix="/api")
    return app
