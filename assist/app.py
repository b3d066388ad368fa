"""The app factory: settings in, FastAPI out; the lifespan builds the services once (assist.services), or
serves ones the caller built."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeAlias

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assist import __version__
from assist.api import api_router
from assist.config import Settings, get_settings
from assist.errors import install_handlers
from assist.gate import RequestGate
from assist.logsafe import secure_logging
from assist.services import Services, build_services
from assist.web import mount_web
from assist.ws import router as ws_router

ServicesFactory: TypeAlias = Callable[[], AbstractAsyncContextManager[Services]]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    given: Services | ServicesFactory | None = app.state.given_services
    if isinstance(given, Services):  # the caller built them and tears them down
        app.state.services, app.state.hub, app.state.bank_changes = given, given.hub, given.bank_changes
        yield given.state()
        return
    build = given or (lambda: build_services(app.state.settings))
    async with build() as services:
        app.state.services, app.state.hub, app.state.bank_changes = services, services.hub, services.bank_changes
        yield services.state()


def create_app(settings: Settings | None = None, services: Services | ServicesFactory | None = None) -> FastAPI:
    """The service for `settings` (default: from the environment). The lifespan builds its services with
    `build_services(settings)`. Pass `services` to serve ones built already (the caller tears them down), or a
    factory the lifespan enters instead, on the server's own event loop (e.g.
    `lambda: build_services(settings, encoder=fake)`)."""
    secure_logging()  # no tokens or chat text in other libraries' records (assist.logsafe)
    app = FastAPI(
        title="Agent Assist",
        version=__version__,
        summary="Real-time reply assistant for customer-service chat.",
        lifespan=lifespan,
    )
    app.state.settings = settings or (services.settings if isinstance(services, Services) else get_settings())
    app.state.given_services = services
    install_handlers(app)
    app.add_middleware(RequestGate)  # auth and size before any body is read (issue 17, item 10); CORS outside it
    if app.state.settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=app.state.settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.include_router(api_router, prefix="/api")
    app.include_router(ws_router)
    mount_web(app, app.state.settings.web_dir)
    return app
