"""Issue 17, item 4: two processes seeding a fresh store at once; the CLI never prints a traceback for an
expected error."""

from __future__ import annotations

import gc
import threading
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from assist.bank.store import PhraseStore
from assist.cli import main
from assist.config import get_settings
from tests.bank.conftest import db_url  # noqa: F401 - the SQLite / PostgreSQL store fixture

SHIPPED = Path(__file__).resolve().parents[2] / "assist" / "phrasebank"


def test_two_stores_seeding_a_fresh_database_at_once(db_url: str) -> None:  # noqa: F811
    barrier = threading.Barrier(3)
    results: list[object] = []

    def seed() -> None:
        barrier.wait()
        try:
            store = PhraseStore.connect(db_url)
            try:
                results.append(store.seed(SHIPPED))
            finally:
                store.close()
        except Exception as exc:  # the test reports it below
            results.append(exc)

    threads = [threading.Thread(target=seed) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not [r for r in results if isinstance(r, Exception)], results
    store = PhraseStore.connect(db_url)
    try:
        keys = [e["key"] for e in store.entries()]
        assert len(keys) == len(set(keys)) > 0
        assert sum(r for r in results if isinstance(r, int)) == len(keys)  # each phrase loaded exactly once
        assert store.seed(SHIPPED) == 0  # idempotent
    finally:
        store.close()
    # A seeding thread that lost the race leaves its failed connection to the garbage collector, which psycopg
    # reports as a ResourceWarning at some later, arbitrary point: collect it here, where it is expected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.mark.parametrize("args", [["token", "list"], ["token", "revoke", "1"], ["bank", "export"], ["bank", "stats"]])
def test_cli_reports_an_unreachable_store_without_a_traceback(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSIST_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 3, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ") and "store" in result.output


def test_cli_revoking_an_unknown_token_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSIST_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ASSIST_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["token", "revoke", "424242"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and result.output.startswith("error: token 424242 not found")


def test_a_store_opening_while_sqlite_answers_locked_looks_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite may answer "database is locked" at once (another connection switching to WAL, or writing while this
    # one's read must become a write), without waiting out its busy timeout: that is a race, not a broken store.
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from assist.bank import db

    calls = []

    def create_all(engine: object) -> None:
        calls.append(engine)
        if len(calls) < 3:
            raise OperationalError("CREATE TABLE ...", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(db.Base.metadata, "create_all", create_all)
    monkeypatch.setattr(db.time, "sleep", lambda _: None)
    db._create_tables(object())  # type: ignore[arg-type]
    assert len(calls) == 3

    def broken(engine: object) -> None:
        raise OperationalError("CREATE TABLE ...", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(db.Base.metadata, "create_all", broken)
    with pytest.raises(db.StoreUnavailable, match="cannot open the phrase store: disk I/O error"):
        db._create_tables(object())  # type: ignore[arg-type]
