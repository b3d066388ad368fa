"""Issue 17, item 17: at DEBUG, no token and no chat text reaches a log record (REST, websocket, import)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from assist.auth import TokenStore
from assist.bank.db import Database
from assist.config import Settings
from tests.fakes import fake_app
from tests.utils import phrase

CHAT = "Zyxwvut-parcel-secret-4711"
DRAFT = "You must wait Qponml-draft-0815"
PHRASE = "Phrase-text-Lkjhgf-9999"


def _all_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for r in caplog.records:
        if r.name.startswith(("httpx", "httpcore")):  # the test's own HTTP client, not the service
            continue
        parts.append(r.getMessage())
        if r.exc_info:
            parts.append(logging.Formatter().formatException(r.exc_info))
        parts.append(str(r.__dict__))
    return "\n".join(parts)


def test_debug_logs_hold_no_token_and_no_chat_text(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    db = Database.connect(settings.sqlalchemy_url)
    _, secret = TokenStore(db).create("lead", "lead")
    db.close()
    auth = {"authorization": f"Bearer {secret}"}
    caplog.set_level(logging.DEBUG)
    with TestClient(fake_app(settings)) as c:
        assert c.post("/api/phrases", json=phrase("log.1", text={"en": PHRASE}), headers=auth).status_code == 201
        line = f'{{"key": "log.2", "text": {{"en": "{PHRASE} two"}}}}\n'.encode()
        assert c.post("/api/phrases/import", files={"file": ("x.jsonl", line)}, headers=auth).status_code == 200
        assert c.post("/api/suggest", json={"text": CHAT}, headers=auth).status_code == 200
        assert c.post("/api/analyze", json={"text": CHAT}, headers=auth).status_code == 200
        assert c.post("/api/rewrite", json={"text": DRAFT}, headers=auth).status_code == 200
        r = c.post("/api/conversations/log-c1/messages", json={"role": "customer", "text": CHAT}, headers=auth)
        assert r.status_code == 200
        assert c.get("/api/phrases", params={"q": PHRASE}, headers=auth).status_code == 200
        assert c.post(f"/api/integrations/chatwoot?token={secret}", json={"event": "x"}).status_code == 200
        with c.websocket_connect(f"/ws?token={secret}") as ws:
            ws.receive_json()
            ws.send_json({"type": "auth", "token": secret, "id": "a"})
            ws.send_json({"type": "subscribe", "conversation_id": "log-c2", "id": "s"})
            ws.send_json({"type": "message", "conversation_id": "log-c2", "role": "customer", "text": CHAT})
            ws.send_json({"type": "draft", "conversation_id": "log-c2", "text": DRAFT})
            ws.send_json({"type": "message", "conversation_id": "log-c2", "role": "customer", "text": CHAT})
            for _ in range(8):
                frame = ws.receive_json()
                if frame["type"] == "rewrite":
                    break
    assert caplog.records, "DEBUG logging was not captured"
    logged = _all_text(caplog)
    for needle in (secret, secret[3:20], CHAT, DRAFT, PHRASE):
        assert needle not in logged, needle


def test_request_lines_with_a_token_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from assist.logsafe import secure_logging

    secure_logging()
    caplog.set_level(logging.DEBUG)
    secret = "aa_" + "x" * 43
    logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5", f"/ws?token={secret}")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "POST", f"/x?token={secret}", "1.1", 200
    )
    assert secret not in _all_text(caplog)
    assert "token=<redacted>" in caplog.records[0].getMessage()


def test_serve_logging_redacts_the_websocket_request_line(capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn logs every websocket upgrade at INFO with its query string: `?token=` must not reach stderr."""
    import logging.config

    from assist.cli.serve import log_config
    from assist.logsafe import QUIET_LOGGERS

    names = ["assist", "uvicorn", "uvicorn.error", "uvicorn.access", *QUIET_LOGGERS]
    saved = {n: (lg.handlers[:], lg.level, lg.propagate, lg.filters[:]) for n in names for lg in [logging.getLogger(n)]}
    secret = "aa_" + "Q" * 43
    try:
        logging.config.dictConfig(log_config("DEBUG"))
        logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5", f"/ws?token={secret}")
        logging.getLogger("websockets.server").debug("< TEXT '%s'", CHAT)
        logging.getLogger("sqlalchemy.engine.Engine").debug("[generated] ('%s',)", PHRASE)
    finally:
        for n, (handlers, level, propagate, filters) in saved.items():
            lg = logging.getLogger(n)
            lg.handlers, lg.level, lg.propagate, lg.filters = handlers, level, propagate, filters
    err = capsys.readouterr().err
    assert "WebSocket /ws?token=<redacted>" in err
    assert secret not in err and CHAT not in err and PHRASE not in err
