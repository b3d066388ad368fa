"""Store fixtures: the same tests run on SQLite and on the PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from assist.bank.models import Base
from assist.bank.store import PhraseStore
from tests.utils import POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL for this test session, dropped afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        conn = admin.connect()
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no PostgreSQL answers at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: {exc.orig}")
    name = f"assist_test_{os.getpid()}"
    conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.close()
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bank.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    Base.metadata.drop_all(engine)  # each test starts from empty tables
    engine.dispose()
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[PhraseStore]:
    s = PhraseStore.connect(db_url)
    yield s
    s.close()
