"""All REST routers, mounted under /api by the app factory."""

from __future__ import annotations

from fastapi import APIRouter

from assist.api import analyze, chatwoot, conversations, guard, health, languages, phrases, rewrite, suggest
from assist.errors import responses

# Any route may answer these (no token, wrong role, bad input, store or Redis down); routes add their own.
api_router = APIRouter(responses=responses(401, 403, 422, 503))
api_router.include_router(health.router)
api_router.include_router(languages.router)
api_router.include_router(phrases.router)
api_router.include_router(analyze.router)
api_router.include_router(suggest.router)
api_router.include_router(conversations.router)
api_router.include_router(chatwoot.router)
api_router.include_router(rewrite.router)
api_router.include_router(guard.router)
