"""Every REST error has the same shape: {"detail", "code", ...}."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/api/nowhere", {}, 404),
        ("get", "/api/phrases/1", {}, 404),
        ("delete", "/api/phrases", {}, 405),
        ("post", "/api/phrases", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ("post", "/api/phrases", {"json": {"text": {"en": "x"}, "emotions": ["rage"]}}, 422),
        ("patch", "/api/phrases/1", {"json": {"version": 1}}, 404),
        ("post", "/api/phrases/import", {"files": {"file": ("a.yml", b"- [")}}, 422),
        ("get", "/api/phrases", {"params": {"offset": -1}}, 422),
    ],
)
def test_error_shape(client: TestClient, method: str, path: str, kwargs: dict, status: int) -> None:
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status
    body = r.json()
    assert isinstance(body["code"], str) and body["code"]
    assert body["detail"]


def test_validation_errors_do_not_echo_input(client: TestClient) -> None:
    """Request bodies may carry chat text: validation errors name fields, not values."""
    r = client.post("/api/phrases", json={"text": "我的订单号是 12345 地址在某某路", "emotions": ["rage"]})
    assert r.status_code == 422 and "12345" not in r.text
