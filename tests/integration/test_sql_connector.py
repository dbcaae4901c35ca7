"""The SQL connector against SQLite, PostgreSQL and MariaDB: keyset reads, upserts, discovery."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.connectors import ReadOptions, WriteMode
from officehub.connectors.sql import SqlConfig, SqlConnector

BASE = datetime(2026, 11, 1, 8, 0, 0)


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vendor.db'}"
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=[True, False], ids=["fast-paths", "sqlalchemy-only"])
def fast_paths(request: pytest.FixtureRequest) -> bool:
    """Every read and write test runs on the fast paths (where the database has them) and without."""
    return request.param


def _connector(url: str, tmp_path: Path, fast_paths: bool = True) -> SqlConnector:
    return SqlConnector("vendor", SqlConfig(url=url, fast_paths=fast_paths), tmp_path)


def _orders(engine: sa.Engine, rows: list[tuple[int, datetime]]) -> None:
    meta = sa.MetaData()
    table = sa.Table("Order Lines", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                     sa.Column("select", sa.String(50)), sa.Column("updated_at", sa.DateTime))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{"id": i, "select": f"line {i}", "updated_at": t} for i, t in rows])


def _read_all(connector: SqlConnector, cursor: dict | None, batch_size: int) -> tuple[list[int], dict | None]:
    ids: list[int] = []
    options = ReadOptions(key=("id",), cursor_field="updated_at", batch_size=batch_size)
    for batch in connector.read("Order Lines", cursor, options):
        ids += batch.batch.column("id").to_pylist()
        cursor = batch.cursor
    return ids, cursor


def test_incremental_read_with_ties_across_batch_boundaries(db_url: str, tmp_path: Path, fast_paths: bool):
    # Ten rows share each timestamp, and batches of 4 cut right through them.
    rows = [(i, BASE + timedelta(minutes=i // 10)) for i in range(1, 31)]
    connector = _connector(db_url, tmp_path, fast_paths)
    _orders(connector.engine, rows)

    first, cursor = _read_all(connector, None, batch_size=4)
    assert first == [i for i, _ in rows]

    # New rows arrive with the same timestamp as the last row read, and later ones.
    last_time = rows[-1][1]
    with connector.engine.begin() as conn:
        table = sa.Table("Order Lines", sa.MetaData(), autoload_with=conn)
        conn.execute(sa.insert(table), [{"id": 31, "select": "late", "updated_at": last_time},
                                        {"id": 32, "select": "new", "updated_at": last_time + timedelta(hours=1)}])
    second, _ = _read_all(connector, cursor, batch_size=4)
    connector.close()
    assert second == [31, 32]


def test_reading_resumes_from_any_batch_cursor_without_gaps(db_url: str, tmp_path: Path, fast_paths: bool):
    rows = [(i, BASE + timedelta(seconds=i // 3)) for i in range(1, 21)]
    connector = _connector(db_url, tmp_path, fast_paths)
    _orders(connector.engine, rows)
    options = ReadOptions(key=("id",), cursor_field="updated_at", batch_size=3)
    batches = list(connector.read("Order Lines", None, options))
    for index, batch in enumerate(batches):
        rest, _ = _read_all(connector, batch.cursor, batch_size=3)
        seen = [i for b in batches[:index + 1] for i in b.batch.column("id").to_pylist()]
        assert seen + rest == [i for i, _ in rows]
    connector.close()


def test_upsert_is_idempotent_and_delete_removes_by_key(db_url: str, tmp_path: Path, fast_paths: bool):
    connector = _connector(db_url, tmp_path, fast_paths)
    batch = pa.RecordBatch.from_pydict({"code": ["A", "B"], "label": ["alpha", "beta"],
                                        "amount": pa.array([1, 2], pa.int64())})
    for _ in range(2):
        connector.write("codes", batch, WriteMode.UPSERT, key=("code",), batch_id="1")
    changed = pa.RecordBatch.from_pydict({"code": ["B", "C"], "label": ["BETA", "gamma"],
                                          "amount": pa.array([20, 3], pa.int64())})
    connector.write("codes", changed, WriteMode.UPSERT, key=("code",), batch_id="2")
    connector.write("codes", changed.slice(1, 1), WriteMode.DELETE, key=("code",), batch_id="3")
    with connector.engine.connect() as conn:
        rows = sorted(conn.execute(sa.text("SELECT code, label, amount FROM codes")).all())
    connector.close()
    assert rows == [("A", "alpha", 1), ("B", "BETA", 20)]


def test_discover_lists_tables_and_views_with_keys(db_url: str, tmp_path: Path):
    connector = _connector(db_url, tmp_path)
    _orders(connector.engine, [(1, BASE)])
    with connector.engine.begin() as conn:
        quoted = connector.engine.dialect.identifier_preparer.quote("Order Lines")
        conn.execute(sa.text(f"CREATE VIEW recent_lines AS SELECT id, updated_at FROM {quoted}"))
    streams = {s.name: s for s in connector.discover()}
    connector.close()
    assert streams["Order Lines"].kind == "table"
    assert streams["Order Lines"].primary_key == ("id",)
    assert "updated_at" in streams["Order Lines"].cursor_candidates
    assert streams["recent_lines"].kind == "view"
    assert [f.name for f in streams["recent_lines"].fields] == ["id", "updated_at"]


def test_a_password_in_the_url_is_refused_without_echoing_it():
    with pytest.raises(ValueError) as caught:
        SqlConfig(url="postgresql+psycopg://app:Sup3rSecret@db.internal/crm")
    assert "Sup3rSecret" not in str(caught.value)
    assert "password" in str(caught.value)


def test_a_missing_password_variable_is_named_not_guessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CRM_DB_PASSWORD", raising=False)
    config = SqlConfig(url="postgresql+psycopg://app@127.0.0.1:5432/test", password={"env": "CRM_DB_PASSWORD"})
    with pytest.raises(FatalError, match="CRM_DB_PASSWORD is not set"):
        SqlConnector("crm", config, tmp_path).check()


def test_an_unreachable_server_is_a_retriable_error_naming_the_system(tmp_path: Path):
    from officehub.canonical_model.errors import RetriableError

    config = SqlConfig(url="postgresql+psycopg://app@127.0.0.1:1/crm", connect_timeout_s=2)
    with pytest.raises(RetriableError) as caught:
        SqlConnector("crm", config, tmp_path).check()
    assert caught.value.describe().startswith("system 'crm': database unavailable")


def test_a_sqlite_destination_in_a_folder_that_does_not_exist_yet_is_created(tmp_path: Path):
    connector = SqlConnector("reporting", SqlConfig(url="sqlite:///out/nested/reporting.db"), tmp_path)
    batch = pa.RecordBatch.from_pydict({"code": ["A"], "label": ["alpha"]})
    assert connector.write("codes", batch, WriteMode.UPSERT, key=("code",), batch_id="1") == 1
    connector.close()
    assert (tmp_path / "out" / "nested" / "reporting.db").is_file()
