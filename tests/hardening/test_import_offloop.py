"""Issue 17, item 9: an import runs off the event loop; other requests answer while it works."""

from __future__ import annotations

import logging
import threading

import pytest
from fastapi.testclient import TestClient

from assist.bank import io
from assist.bank import store as store_module


def test_a_request_answers_while_an_import_is_parsed(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    parsing, answered = threading.Event(), threading.Event()
    waited: list[bool] = []
    real_parse = io.parse

    def slow_parse(data: bytes, fmt: str) -> io.Parsed:
        parsing.set()
        waited.append(answered.wait(10))  # True only if another request answered meanwhile
        return real_parse(data, fmt)

    monkeypatch.setattr(io, "parse", slow_parse)
    rows = "".join(f'{{"key": "big.{i}", "text": {{"en": "Reply number {i}"}}}}\n' for i in range(300))
    result: dict[str, object] = {}

    def run_import() -> None:
        r = client.post("/api/phrases/import", files={"file": ("big.jsonl", rows.encode())}, params={"dry_run": True})
        result["status"], result["body"] = r.status_code, r.json()

    worker = threading.Thread(target=run_import)
    worker.start()
    assert parsing.wait(10)
    assert client.get("/api/health").status_code == 200
    answered.set()
    worker.join(60)
    assert waited == [True]
    assert result["status"] == 200 and result["body"]["created"] == 300  # type: ignore[index]


def test_a_long_import_logs_progress(
    client: TestClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "IMPORT_PROGRESS_ROWS", 100)
    caplog.set_level(logging.INFO, logger="assist.bank.store")
    rows = "".join(f'{{"key": "p.{i}", "text": {{"en": "Reply number {i}"}}}}\n' for i in range(250))
    r = client.post("/api/phrases/import", files={"file": ("p.jsonl", rows.encode())}, params={"dry_run": True})
    assert r.status_code == 200
    progress = [rec.getMessage() for rec in caplog.records if "phrase import:" in rec.getMessage()]
    assert any("100/250" in m for m in progress) and any("250/250" in m for m in progress)
