"""The web surfaces: agent sidebar (/), demo (/demo), team-lead console (/console), embeddable widget."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

logger = logging.getLogger(__name__)

PAGES = {"/": "index.html", "/demo": "demo.html", "/console": "console.html", "/widget.js": "widget.js"}


def mount_web(app: FastAPI, web_dir: Path) -> None:
    """Serve the pages and /static from `web_dir`; without it the API runs alone (and says so)."""
    if not (web_dir / "index.html").is_file():
        logger.warning("web: %s has no index.html; serving the API only", web_dir)
        return
    for path, name in PAGES.items():
        file = web_dir / name

        async def page(file: Path = file) -> FileResponse:
            media = "text/javascript; charset=utf-8" if file.suffix == ".js" else "text/html; charset=utf-8"
            return FileResponse(file, media_type=media, headers={"Cache-Control": "no-cache"})

        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=web_dir / "static"), name="static")
