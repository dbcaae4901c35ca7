"""Failures that retrying never fixes are fatal (exit 2); only transient ones ask for a retry (exit 75).

Against the real PostgreSQL and MariaDB servers: an unknown database, a refused password and a
CHECK violation are permanent although the drivers raise some of them as OperationalError; a
refused connection, a statement timeout and a lock timeout are transient.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.connectors import SecretRef
from officehub.connectors.sql.config import SqlConfig
from officehub.connectors.sql.connector import SqlConnector
from officehub.connectors.sql.errors import translate
from officehub.store.hub import HubStore
from tests.conftest import copy_demo_config
from tests.helpers import run_cli

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306"


def _check(url: str, tmp_path: Path, password: SecretRef | None = None) -> OfficehubError:
    connector = SqlConnector("erp", SqlConfig(url=url, password=password, connect_timeout_s=5), tmp_path)
    try:
        with pytest.raises(OfficehubError) as info:
            connector.check()
    finally:
        connector.close()
    return info.value


def _statement_error(url: str, *statements: str) -> OfficehubError:
    engine = sa.create_engine(url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as info, engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        return translate(info.value, "erp", "items", url)
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", [f"{PG}/no_such_database_here", f"{MARIADB}/no_such_database_here"],
                         ids=["postgresql", "mariadb"])
def test_an_unknown_database_is_fatal(url: str, tmp_path: Path) -> None:
    error = _check(url, tmp_path)
    assert isinstance(error, FatalError) and error.exit_code == 2
    assert "refused the connection" in str(error) and "retrying will not help" in str(error)


def test_a_wrong_password_is_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_PASSWORD", "wrong-password-sentinel")
    error = _check(f"{MARIADB}/test", tmp_path, SecretRef(env="ERP_PASSWORD"))
    assert isinstance(error, FatalError) and "Access denied" in str(error)
    assert "wrong-password-sentinel" not in str(error)


@pytest.fixture
def mariadb_table() -> Iterator[str]:
    engine = sa.create_engine(f"{MARIADB}/test")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS permanent_failure_items")
        conn.exec_driver_sql("CREATE TABLE permanent_failure_items (qty INT CHECK (qty > 0))")
    yield "permanent_failure_items"
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS permanent_failure_items")
    engine.dispose()


def test_a_check_violation_is_fatal_and_quotes_no_value(mariadb_table: str) -> None:
    # PyMySQL raises MariaDB's CHECK violation (4025) as an OperationalError.
    error = _statement_error(f"{MARIADB}/test", f"INSERT INTO {mariadb_table} VALUES (-987654)")
    assert isinstance(error, FatalError) and "4025" in str(error)
    assert "987654" not in str(error)


def test_a_postgresql_check_violation_is_fatal() -> None:
    error = _statement_error(f"{PG}/test", "CREATE TEMP TABLE t (qty int CHECK (qty > 0))",
                             "INSERT INTO t VALUES (-987654)")
    assert isinstance(error, FatalError) and "23514" in str(error) and "987654" not in str(error)


def test_timeouts_and_a_refused_connection_are_transient(tmp_path: Path) -> None:
    assert isinstance(_check(f"{PG.replace('5432', '1')}/test", tmp_path), RetriableError)
    assert isinstance(_check(f"{MARIADB.replace('3306', '1')}/test", tmp_path), RetriableError)
    timed_out = _statement_error(f"{PG}/test", "SET statement_timeout = 10", "SELECT pg_sleep(1)")
    assert isinstance(timed_out, RetriableError)
    interrupted = _statement_error(f"{MARIADB}/test", "SET max_statement_time = 0.01",
                                   "SELECT SLEEP(1) FROM information_schema.tables")
    assert isinstance(interrupted, RetriableError)


def test_a_locked_sqlite_database_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "erp.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE items (id INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        error = _statement_error(f"sqlite:///{path}?timeout=0.1", "INSERT INTO items VALUES (1)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert isinstance(error, RetriableError)


def test_a_hub_store_with_an_unknown_database_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalError) as info:
        HubStore.open(f"{PG}/no_such_hub_database", tmp_path)
    assert "refused the connection" in str(info.value)


def test_sync_against_an_unknown_source_database_exits_2(tmp_path: Path) -> None:
    folder = copy_demo_config(tmp_path / "project")
    systems = folder / "systems" / "crm.yaml"
    systems.write_text(systems.read_text().replace("sqlite:///data/crm.db", f"{MARIADB}/no_such_crm_database"))
    failed = run_cli("-p", str(folder), "sync", "crm_customers_in")
    assert failed.returncode == 2, failed.stderr
    assert "crm" in failed.stderr and "refused the connection" in failed.stderr
