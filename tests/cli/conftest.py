"""CLI fixtures: a fresh data dir per test through the environment, as a user would set it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from assist.config import get_settings


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ASSIST_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
