"""Liveness and store health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from assist import __version__
from assist.deps import StoreDep
from assist.errors import StoreUnavailable

router = APIRouter(tags=["health"])


@router.get("/health")
def read_health(store: StoreDep) -> dict[str, Any]:
    """Service version and whether the phrase store answers."""
    try:
        with store.session() as s:
            s.execute(text("SELECT 1"))
    except StoreUnavailable as exc:
        raise StoreUnavailable(exc.detail, status="unavailable") from exc
    return {"status": "ok", "version": __version__, "store": store.engine.dialect.name}
