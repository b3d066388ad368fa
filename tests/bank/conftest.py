"""Store fixtures: the same tests run on SQLite and on the PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assist.bank.store import PhraseStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bank.db'}"
    url: str = request.getfixturevalue("fresh_postgres")
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[PhraseStore]:
    s = PhraseStore.connect(db_url)
    yield s
    s.close()
