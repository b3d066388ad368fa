"""The bank's database: one engine and its sessions, shared by the phrase repository, usage counts, the
vector cache and the API tokens (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from assist.bank.models import Base
from assist.errors import Conflict, StoreUnavailable


class Sessions(Protocol):
    """Anything that opens a transaction on the bank's database (a Database, or a unit holding one)."""

    def session(self) -> AbstractContextManager[Session]: ...


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def connect(cls, url: str) -> Database:
        """Open (and create the tables of) the database at a SQLAlchemy URL."""
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Wait for another writer instead of failing at once ("database is locked").
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        _create_tables(engine)
        return cls(engine)

    def close(self, wait: float = 5.0) -> None:
        """Close the pool's connections, after waiting (up to `wait` seconds) for transactions still running on
        other threads: a connection checked out during dispose() would be returned to a dropped pool and never
        closed (PostgreSQL then sees it vanish)."""
        pool = self.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        deadline = time.monotonic() + wait
        while checked_out is not None and checked_out() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        try:
            with self._sessions.begin() as s:
                yield s
        except StaleDataError as exc:
            raise Conflict(
                "a phrase changed while this change was being written; nothing was saved, try again"
            ) from exc
        except OperationalError as exc:
            raise StoreUnavailable(f"the phrase store is unavailable: {type(exc.orig).__name__}") from exc


def _create_tables(engine: Engine, attempts: int = 8) -> None:
    """Create the tables that are missing. Another process creating them at the same moment (two instances
    starting on an empty store) makes CREATE TABLE fail with "already exists" (SQLite) or a duplicate
    catalogue row (PostgreSQL): then look again, the tables are there. SQLite may also answer "database is
    locked" at once, without waiting out its busy timeout (a connection switching the file to WAL, or a read
    that must become a write while another connection writes): look again a little later too."""
    for attempt in range(attempts):
        try:
            Base.metadata.create_all(engine)
            return
        except (OperationalError, IntegrityError, ProgrammingError) as exc:
            text = str(exc.orig)
            racing = not isinstance(exc, OperationalError) or "already exists" in text or "locked" in text
            if not racing:
                raise StoreUnavailable(f"cannot open the phrase store: {exc.orig}") from exc
            if attempt == attempts - 1:
                raise StoreUnavailable(f"cannot create the phrase store's tables: {exc.orig}") from exc
            time.sleep(min(0.05 * 2**attempt, 2.0))


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
