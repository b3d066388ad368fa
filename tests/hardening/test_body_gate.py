"""Issue 17, item 10: auth and size limits are checked before the request body is read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assist.auth import TokenStore
from assist.bank.db import Database
from assist.config import Settings
from tests.fakes import fake_app

BIG = 200 * 1024 * 1024


@pytest.fixture
def locked(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    db = Database.connect(settings.sqlalchemy_url)
    _, secret = TokenStore(db).create("lead", "lead")
    db.close()
    s = settings.model_copy(update={"max_request_bytes": 1024 * 1024})
    with TestClient(fake_app(s)) as c:
        yield c, secret


def _call(c: TestClient, path: str, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, int, bytes]:
    """Run one request through the app as ASGI: (status, body chunks the app read, response body)."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "testserver", **headers}.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": dict(c.app_state),
    }
    c.portal.call(c.app, scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], read, body


MULTIPART = {"content-type": "multipart/form-data; boundary=xyz"}


def test_unauthenticated_big_body_is_401_without_reading_it(locked: tuple[TestClient, str]) -> None:
    c, _ = locked
    for path in ("/api/phrases/import", "/api/phrases", "/api/conversations/c1/messages", "/api/suggest"):
        status, read, body = _call(c, path, {**MULTIPART, "content-length": str(BIG)}, [b"x" * 1000] * 3)
        assert status == 401 and read == 0 and b"unauthorized" in body, (path, status, read, body)
    status, read, _ = _call(c, "/api/phrases", {"authorization": "Bearer aa_wrong", "content-length": "10"}, [b"{}"])
    assert status == 401 and read == 0


def test_over_limit_body_is_413_without_reading_it(locked: tuple[TestClient, str]) -> None:
    c, secret = locked
    headers = {**MULTIPART, "authorization": f"Bearer {secret}", "content-length": str(BIG)}
    status, read, body = _call(c, "/api/phrases/import", headers, [b"x" * 1000] * 3)
    assert status == 413 and read == 0 and b"payload_too_large" in body


def test_chunked_over_limit_body_is_413(locked: tuple[TestClient, str]) -> None:
    c, secret = locked
    headers = {**MULTIPART, "authorization": f"Bearer {secret}"}
    start = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n'
    status, read, body = _call(c, "/api/phrases/import", headers, [start] + [b"x" * 256 * 1024] * 40)
    assert status == 413 and read <= 6 and b"payload_too_large" in body


def test_a_chatwoot_token_in_the_query_passes_the_gate(locked: tuple[TestClient, str]) -> None:
    c, secret = locked
    body = b'{"event": "conversation_created"}'
    status, _, _ = _call(c, f"/api/integrations/chatwoot?token={secret}", {"content-type": "application/json"}, [body])
    assert status == 200
    status, read, _ = _call(c, "/api/integrations/chatwoot", {"content-length": str(BIG)}, [body])
    assert status == 401 and read == 0


def test_within_limits_requests_work(locked: tuple[TestClient, str]) -> None:
    c, secret = locked
    r = c.post("/api/suggest", json={"text": "where is my parcel"}, headers={"authorization": f"Bearer {secret}"})
    assert r.status_code == 200, r.text
