"""The web pages are served with the right types; without a web dir the API still runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assist.config import Settings
from assist.vocab import PROFILE_LABELS, SITUATIONS
from tests.fakes import fake_app


@pytest.mark.parametrize(
    ("path", "media", "marker"),
    [
        ("/", "text/html", "sidebar.js"),
        ("/demo", "text/html", "demo.js"),
        ("/console", "text/html", "console.js"),
        ("/widget.js", "text/javascript", "AgentAssist"),
        ("/static/js/dom.js", "text/javascript", "createTextNode"),
    ],
)
def test_web_pages(client: TestClient, path: str, media: str, marker: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith(media) and marker in r.text


def test_vocabulary(client: TestClient) -> None:
    vocab = client.get("/api/vocabulary").json()
    assert vocab["situations"] == list(SITUATIONS) and vocab["customer_types"] == list(PROFILE_LABELS)


def test_no_web_dir_serves_the_api_only(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        seed_phrasebank=False,  # type: ignore[call-arg]
        web_dir=tmp_path / "nowhere",
    )
    with TestClient(fake_app(settings)) as c:
        assert c.get("/").status_code == 404 and c.get("/api/health").status_code == 200
