"""`assist serve`: run the service with uvicorn."""

from __future__ import annotations

import logging.config

import click
import uvicorn

from assist.cli import main
from assist.config import get_settings
from assist.logsafe import QUIET_LOGGERS


def log_config(level: str) -> dict[str, object]:
    """Log events to stderr. No logger is given chat text; request lines (which may carry tokens) are off, and
    every line passes assist.logsafe.Redact."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "filters": {"redact": {"()": "assist.logsafe.Redact"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
        "loggers": {
            "assist": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            # These write request data at DEBUG (SQL parameters, websocket frames, multipart parts).
            **{name: {"level": "WARNING"} for name in QUIET_LOGGERS},
        },
    }


@main.command()
@click.option("--host", default=None, help="bind address (default from ASSIST_HOST, 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (default from ASSIST_PORT, 8000)")
@click.option("--demo", is_flag=True, help="also play a scripted customer into conversation 'demo'")
def serve(host: str | None, port: int | None, demo: bool) -> None:
    """Start the service on the embedded defaults (SQLite, in-process hub, bundled model)."""
    settings = get_settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    settings.demo = settings.demo or demo
    from assist.server import AssistServer, tune_process

    tune_process(settings)
    config = log_config(settings.log_level.upper())
    logging.config.dictConfig(config)
    from assist.app import create_app

    server = AssistServer(
        uvicorn.Config(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=config,
            ws_max_size=settings.hub.max_frame_bytes * 8,
        ),
        freeze=True,
    )
    server.run()
