"""Guard store fixtures: the same tests run on SQLite and on the PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assist.bank.db import Database
from assist.guard.store import GuardStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def guard_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GuardStore]:
    url = (
        f"sqlite:///{tmp_path / 'bank.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    )
    db = Database.connect(url)
    yield GuardStore(db)
    db.close()
