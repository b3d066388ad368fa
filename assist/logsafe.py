"""Logging that keeps tokens and chat text out (issue 17, item 17).

Every `assist` logger call passes counts, ids, keys and exception types, never a message, draft, phrase text or
token (audited 2026-12-02). What other libraries log is held here:
- loggers that at DEBUG write request data (SQL parameters: phrase texts; websocket frames: chat text and `auth`
  tokens; multipart parts: import files) are pinned at WARNING unless a deployment sets their level itself;
- request lines (uvicorn's `WebSocket /ws?token=...` and access lines) pass a filter that redacts `token=`
  query values, `Bearer` credentials and anything shaped like an `aa_` token."""

from __future__ import annotations

import logging
import re

# Loggers whose DEBUG (or INFO) records carry request data.
QUIET_LOGGERS = (
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "sqlalchemy.orm",
    "websockets",
    "python_multipart",
    "multipart",
    "httpx",
    "httpcore",
    "asyncio",
)
# Loggers whose records hold request lines (paths with query strings).
REQUEST_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

_PATTERNS = (
    (re.compile(r"([?&;]token=)[^&\s\"'#]*", re.IGNORECASE), r"\1<redacted>"),
    (re.compile(r"(bearer\s+)\S+", re.IGNORECASE), r"\1<redacted>"),
    (re.compile(r"\baa_[A-Za-z0-9_\-]{8,}"), "aa_<redacted>"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    """Rewrites a record's message with tokens redacted (the arguments are merged into it first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_REDACT = Redact()


def secure_logging() -> None:
    """Pin the QUIET_LOGGERS at WARNING (unless a level was set for them) and redact request lines. Idempotent;
    called by create_app and by `assist serve`'s logging configuration."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)
