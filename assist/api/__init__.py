"""All REST routers, mounted under /api by the app factory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

from assist.api import analyze, chatwoot, conversations, guard, health, languages, phrases, rewrite, suggest
from assist.errors import responses

# Any route may answer these (no token, wrong role, bad input, store or Redis down); routes add their own.
api_router = APIRouter(responses=responses(401, 403, 422, 503))


def _document_gate(routes: list[Any]) -> None:
    """The request gate (assist.gate) may answer any /api request with a body 401, 403 or 413 before a route
    runs: say so in each such route's OpenAPI responses."""
    for route in routes:
        if isinstance(route, APIRoute) and (route.methods or set()) & {"POST", "PUT", "PATCH"}:
            for status, doc in responses(401, 403, 413).items():
                route.responses.setdefault(status, doc)


for _module in (health, languages, phrases, analyze, suggest, conversations, chatwoot, rewrite, guard):
    _document_gate(_module.router.routes)

api_router.include_router(health.router)
api_router.include_router(languages.router)
api_router.include_router(phrases.router)
api_router.include_router(analyze.router)
api_router.include_router(suggest.router)
api_router.include_router(conversations.router)
api_router.include_router(chatwoot.router)
api_router.include_router(rewrite.router)
api_router.include_router(guard.router)
