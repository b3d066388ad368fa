"""Shared fixtures: settings isolated from the developer's .env, a TestClient that runs the lifespan."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from assist.app import create_app
from assist.config import Settings
from tests.fakes import fake_app
from tests.utils import POSTGRES_ADMIN_URL

# Services started by tests load the model before they answer, so English rankings do not depend on how
# fast the model loads; tests/retrieval/test_searcher.py covers answering while it loads.
os.environ.setdefault("ASSIST_RETRIEVAL__MODEL_LOAD", "start")


# Fixtures that load the real embedding model: a test using one is `slow` (left out of the fast inner loop in
# CONTRIBUTING.md). Tests that build apps without them use the hashed encoder (tests/fakes.py) or mark themselves.
MODEL_FIXTURES = frozenset({"shipped", "shipped_db", "embedder", "eager"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _testclient_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """TestClient sends `Host: testserver`; open access answers only local names and ASSIST_ALLOWED_HOSTS."""
    monkeypatch.setenv("ASSIST_ALLOWED_HOSTS", '["testserver"]')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """An empty SQLite store in a temp dir; the shipped bank is not loaded (tests that want it say so)."""
    return Settings(_env_file=None, data_dir=tmp_path, seed_phrasebank=False)  # type: ignore[call-arg]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """Bound to loopback with no tokens: open access, every request acts as a lead."""
    with TestClient(fake_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def shipped_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the shipped bank and its vectors cached, made once and copied per test."""
    data = tmp_path_factory.mktemp("shipped")
    with TestClient(create_app(Settings(_env_file=None, data_dir=data))):  # type: ignore[call-arg]
        pass
    return data / "assist.db"


@pytest.fixture
def shipped(shipped_db: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The service over the shipped bank (vectors cached), open access."""
    shutil.copy(shipped_db, tmp_path / "assist.db")
    with TestClient(create_app(Settings(_env_file=None, data_dir=tmp_path))) as c:  # type: ignore[call-arg]
        yield c


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


def empty_tables(url: str) -> str:
    """Drop the service's tables in a test database, so a test starts from nothing; the URL back."""
    from assist.bank.models import Base

    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def fresh_postgres(postgres_url: str) -> str:
    """The session's PostgreSQL test database with empty tables."""
    return empty_tables(postgres_url)
