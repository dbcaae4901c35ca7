"""The SQL connector's fast paths (ADBC and connectorx reads, PostgreSQL COPY writes) on real servers.

Each fast path must be the one actually used where it applies, and must give exactly
what the general SQLAlchemy path gives: same rows, same Arrow types, same cursors.
"""

from __future__ import annotations

import importlib
import os
import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

import officehub.arrowsql.paths as paths_module
import officehub.connectors.sql.connector as connector_module
from officehub.arrowsql.keyset import Keyset
from officehub.arrowsql.read_arrow import UnfitStream
from officehub.canonical_model.errors import FatalError
from officehub.connectors import ReadOptions, WriteMode
from officehub.connectors.sql import SqlConfig, SqlConnector

for _driver in ("connectorx", "adbc_driver_postgresql"):
    try:
        importlib.import_module(_driver)
    except ImportError:
        if os.environ.get("CI"):  # CI installs the extras: a missing fast driver is a failure there
            raise
        pytest.skip(f"{_driver} is not installed (pip install -e '.[dev]')", allow_module_level=True)

BASE = datetime(2026, 11, 1, 8, 0, 0)
FAST_READER = {"postgres": "adbc", "mariadb": "connectorx", "sqlite": "sqlalchemy"}
MICRO = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
AWARE = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'vendor.db'}"
    return request.param, request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["postgres", "mariadb"])
def fast_server(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param, request.getfixturevalue(f"{request.param}_url")


_OPEN: list[SqlConnector] = []


@pytest.fixture(autouse=True)
def _close_connectors():
    yield
    while _OPEN:
        _OPEN.pop().close()


def _connector(url: str, tmp_path: Path, *, fast: bool = True, **settings) -> SqlConnector:
    connector = SqlConnector("vendor", SqlConfig(url=url, fast_paths=fast, **settings), tmp_path)
    _OPEN.append(connector)
    return connector


def _no_general_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the SQLAlchemy reader ran where the fast reader should have")
    monkeypatch.setattr(connector_module, "read_rows", refuse)


def _before_all(lowest_key: int = -(2**63)) -> dict:
    """A stored cursor before every test row: reads page in (cursor, key) order from the start.

    (Without a cursor, an incremental stream's first read goes in key order instead.)
    """
    return {"after": [(BASE - timedelta(days=1)).isoformat(), lowest_key]}


def _read(connector: SqlConnector, stream: str, options: ReadOptions, cursor: dict | None = None):
    return list(connector.read(stream, cursor, options))


# -- reads: same values, same types ----------------------------------------------------

def _kitchen_sink(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    table = sa.Table(
        "customers", meta,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(100)), sa.Column("notes", sa.Text),
        sa.Column("credit", sa.Numeric(12, 2)), sa.Column("rate", sa.Numeric(20, 6)),
        sa.Column("seen_at", MICRO), sa.Column("stamped_at", AWARE), sa.Column("born", sa.Date),
        sa.Column("active", sa.Boolean), sa.Column("score", sa.Double),
        sa.Column("ratio", sa.REAL().with_variant(mysql.FLOAT(), "mysql", "mariadb")),
        sa.Column("photo", sa.LargeBinary), sa.Column("updated_at", MICRO, nullable=False),
    )
    meta.create_all(engine)
    rows = [
        {"id": 2**62 + 7, "name": "Олена Ковальчук 🌻", "notes": "tab\there\nnew line \\ back'slash \"q\"",
         "credit": Decimal("-1234567890.12"), "rate": Decimal("12345678901234.123456"),
         "seen_at": datetime(2026, 1, 2, 3, 4, 5, 123456), "stamped_at": datetime(2026, 1, 2, 3, 4, 5, 7),
         "born": date(1969, 12, 31), "active": True, "score": 0.1, "ratio": 0.1, "photo": b"\x00\xff\\",
         "updated_at": BASE},
        {"id": -(2**62), "name": None, "notes": None, "credit": None, "rate": None, "seen_at": None,
         "stamped_at": None, "born": None, "active": None, "score": None, "ratio": None, "photo": None,
         "updated_at": BASE},
        {"id": 3, "name": "", "notes": "Zoë — Søren", "credit": Decimal("0.01"), "rate": Decimal("-0.000001"),
         "seen_at": datetime(1999, 12, 31, 23, 59, 59, 999999), "stamped_at": datetime(2030, 6, 1),
         "born": date(2026, 2, 28), "active": False, "score": -1.5e300, "ratio": 3.25, "photo": b"",
         "updated_at": BASE + timedelta(microseconds=1)},
    ]
    if engine.dialect.name == "postgresql":
        for row in rows:
            row["stamped_at"] = row["stamped_at"] and row["stamped_at"].replace(tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), rows)


def test_fast_and_general_readers_give_identical_batches(fast_server, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    name, url = fast_server
    general = _connector(url, tmp_path, fast=False)
    _kitchen_sink(general.engine)
    options = ReadOptions(key=("id",), cursor_field="updated_at", batch_size=2)
    expected = _read(general, "customers", options, _before_all())

    fast = _connector(url, tmp_path)
    assert fast.read_path("customers") == FAST_READER[name]
    _no_general_reader(monkeypatch)
    got = _read(fast, "customers", options, _before_all())
    general.close(), fast.close()

    assert [b.batch.num_rows for b in got] == [b.batch.num_rows for b in expected] == [2, 1]
    for fast_batch, general_batch in zip(got, expected):
        assert fast_batch.batch.schema == general_batch.batch.schema
        assert fast_batch.batch.to_pylist() == general_batch.batch.to_pylist()
        assert fast_batch.cursor == general_batch.cursor
        assert fast_batch.positions == general_batch.positions
    schema = got[0].batch.schema
    assert schema.field("id").type == pa.int64()
    assert schema.field("credit").type == pa.decimal128(12, 2)
    assert schema.field("rate").type == pa.decimal128(20, 6)
    assert schema.field("seen_at").type == pa.timestamp("us")
    assert schema.field("stamped_at").type == pa.timestamp("us", "UTC" if name == "postgres" else None)
    assert schema.field("name").type == schema.field("notes").type == pa.string()
    assert schema.field("ratio").type == pa.float32()
    first = got[0].batch.to_pylist()
    assert first[1]["id"] == 2**62 + 7 and first[0]["id"] == -(2**62)
    assert first[1]["notes"] == "tab\there\nnew line \\ back'slash \"q\""
    assert first[1]["seen_at"] == datetime(2026, 1, 2, 3, 4, 5, 123456)
    assert first[1]["rate"] == Decimal("12345678901234.123456")
    assert all(v is None for k, v in first[0].items() if k not in ("id", "updated_at"))


def test_the_read_path_follows_the_url_the_driver_options_and_the_column_types(server, tmp_path: Path):
    name, url = server
    connector = _connector(url, tmp_path)
    _orders(connector.engine, [(1, BASE)])
    assert connector.read_path("orders") == FAST_READER[name]
    assert _connector(url, tmp_path, fast=False).read_path("orders") == "sqlalchemy"
    if name == "mariadb":
        # A driver option connectorx may not honour (here a timeout) keeps the stream on PyMySQL.
        assert _connector(url + "&connect_timeout=5", tmp_path).read_path("orders") == "sqlalchemy"
    if name == "sqlite":
        return
    with connector.engine.begin() as conn:
        # Digits connectorx would cut (MySQL) / an unconstrained NUMERIC (PostgreSQL): no faithful Arrow type.
        wide = "DECIMAL(30,15)" if name == "mariadb" else "NUMERIC"
        conn.execute(sa.text(f"CREATE TABLE wide (id INTEGER PRIMARY KEY, amount {wide})"))
        conn.execute(sa.text("INSERT INTO wide VALUES (1, 123456789012345.123456789012345)"))
    assert connector.read_path("wide") == "sqlalchemy"
    [batch, _end] = _read(connector, "wide", ReadOptions(key=("id",)))
    connector.close()
    assert batch.batch.column("amount").to_pylist() == [Decimal("123456789012345.123456789012345")]


def test_an_empty_table_is_one_finished_snapshot_with_the_declared_types(server, tmp_path: Path):
    _name, url = server
    connector = _connector(url, tmp_path)
    _orders(connector.engine, [])
    batches = _read(connector, "orders", ReadOptions(key=("id",), batch_size=10))
    assert [(b.batch.num_rows, b.cursor) for b in batches] == [(0, None)]
    assert batches[0].batch.schema.types == [pa.int64(), pa.string(), pa.timestamp("us")]


# -- reads: keyset pages ---------------------------------------------------------------------

def _orders(engine: sa.Engine, rows: list[tuple[int, datetime | None]], *, nullable: bool = False) -> None:
    meta = sa.MetaData()
    table = sa.Table("orders", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                     sa.Column("label", sa.String(50)), sa.Column("updated_at", MICRO, nullable=nullable))
    meta.create_all(engine)
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(table), [{"id": i, "label": f"line {i}", "updated_at": t}
                                            for i, t in rows[start:start + 5000]])


def _page_limits(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """Records the LIMIT of every keyset query the connector builds."""
    limits: list[int | None] = []
    select = Keyset.select

    def spy(self, after, limit=None):
        limits.append(limit)
        return select(self, after, limit)
    monkeypatch.setattr(Keyset, "select", spy)
    return limits


def test_twenty_thousand_rows_in_pages_with_ties_across_every_page_boundary(server, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch):
    name, url = server
    ids = list(range(1, 20_001))
    random.Random(3).shuffle(ids)  # key order differs from insertion order
    rows = [(i, BASE + timedelta(seconds=n // 7)) for n, i in enumerate(ids)]  # 7 rows share each time
    connector = _connector(url, tmp_path)
    _orders(connector.engine, rows)
    limits = _page_limits(monkeypatch)
    options = ReadOptions(key=("id",), cursor_field="updated_at", batch_size=1000)

    batches = _read(connector, "orders", options, _before_all(lowest_key=0))
    read = [i for b in batches for i in b.batch.column("id").to_pylist()]
    assert read == [i for _, i in sorted((t, i) for i, t in rows)]
    assert [b.batch.num_rows for b in batches] == [1000] * 20
    if FAST_READER[name] != "sqlalchemy":
        assert limits == [1000] * 21  # one query per page, plus the one that finds the end

    # Resuming from any stored cursor reads exactly the rest.
    for index in (0, 6, 18):
        rest = [i for b in _read(connector, "orders", options, batches[index].cursor)
                for i in b.batch.column("id").to_pylist()]
        assert rest == read[(index + 1) * 1000:]
    connector.close()


def test_rows_with_no_cursor_value_are_read_once_even_across_pages(server, tmp_path: Path):
    _name, url = server
    rows = [(i, None if i <= 25 else BASE + timedelta(seconds=i // 4)) for i in range(1, 61)]
    connector = _connector(url, tmp_path)
    _orders(connector.engine, rows, nullable=True)
    options = ReadOptions(key=("id",), cursor_field="updated_at", batch_size=10)

    batches = _read(connector, "orders", options)
    assert [i for b in batches for i in b.batch.column("id").to_pylist()] == list(range(1, 61))
    with connector.engine.begin() as conn:
        table = sa.Table("orders", sa.MetaData(), autoload_with=conn)
        conn.execute(sa.insert(table), [{"id": 61, "label": "late", "updated_at": BASE + timedelta(hours=1)}])
    again = _read(connector, "orders", options, batches[-1].cursor)
    mid = _read(connector, "orders", options, batches[1].cursor)  # stored while still among the NULLs
    connector.close()
    assert [i for b in again for i in b.batch.column("id").to_pylist()] == [61]
    assert [i for b in mid for i in b.batch.column("id").to_pylist()] == list(range(21, 62))


def test_a_time_zone_aware_cursor_pages_and_resumes_alike_on_both_paths(fast_server, tmp_path: Path):
    _name, url = fast_server
    general = _connector(url, tmp_path, fast=False)
    meta = sa.MetaData()
    table = sa.Table("events", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                     sa.Column("changed_at", AWARE, nullable=False))
    meta.create_all(general.engine)
    kyiv = timezone(timedelta(hours=2))
    with general.engine.begin() as conn:
        conn.execute(sa.insert(table), [{"id": i, "changed_at": datetime(2026, 3, 1, 9, i // 3, tzinfo=kyiv)}
                                        for i in range(1, 13)])
    options = ReadOptions(key=("id",), cursor_field="changed_at", batch_size=2)
    fast = _connector(url, tmp_path)
    assert fast.read_path("events") != "sqlalchemy"
    fast_run, general_run = (_read(connector, "events", options) for connector in (fast, general))
    assert [b.cursor for b in fast_run] == [b.cursor for b in general_run]
    assert [i for b in fast_run for i in b.batch.column("id").to_pylist()] == list(range(1, 13))
    resumed = [_read(connector, "events", options, general_run[2].cursor) for connector in (fast, general)]
    assert [[i for b in run for i in b.batch.column("id").to_pylist()] for run in resumed] == [list(range(7, 13))] * 2


def test_string_keys_with_quotes_and_backslashes_page_correctly(fast_server, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    # connectorx takes literal SQL: the key of each page's last row is rendered into the next query.
    _name, url = fast_server
    codes = sorted(["O'Brien", "a\\", "a\\'", "b' OR '1'='1", "c\"d", "Київ", "ß", "z;--", "x\\\\y"])
    connector = _connector(url, tmp_path)
    meta = sa.MetaData()
    table = sa.Table("codes", meta, sa.Column("code", sa.String(40), primary_key=True))
    meta.create_all(connector.engine)
    with connector.engine.begin() as conn:
        conn.execute(sa.insert(table), [{"code": c} for c in codes])
        expected = conn.execute(sa.select(table.c.code).order_by(table.c.code)).scalars().all()
    _no_general_reader(monkeypatch)
    batches = _read(connector, "codes", ReadOptions(key=("code",), batch_size=2))
    connector.close()
    assert [c for b in batches for c in b.batch.column("code").to_pylist()] == expected
    assert sorted(expected) == codes and batches[-1].cursor is None and batches[-1].batch.num_rows == 0


def test_a_stream_the_fast_reader_cannot_carry_is_read_on_by_sqlalchemy(fast_server, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    _name, url = fast_server
    rows = [(i, BASE + timedelta(seconds=i // 3)) for i in range(1, 51)]
    connector = _connector(url, tmp_path)
    _orders(connector.engine, rows)
    real = connector_module.read_pages

    def two_pages_then_unfit(*args, **kwargs):
        pages = real(*args, **kwargs)
        yield next(pages)
        yield next(pages)
        raise UnfitStream("a value does not fit")
    monkeypatch.setattr(connector_module, "read_pages", two_pages_then_unfit)
    batches = _read(connector, "orders", ReadOptions(key=("id",), cursor_field="updated_at", batch_size=8))
    connector.close()
    assert [i for b in batches for i in b.batch.column("id").to_pylist()] == list(range(1, 51))


def test_a_password_with_url_characters_reaches_connectorx(mariadb_url: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    database = sa.make_url(mariadb_url).database
    password = "p@ss:w/rd%20?#'\\"
    admin = sa.create_engine(mariadb_url)
    with admin.begin() as conn:
        conn.execute(sa.text("CREATE USER 'ohub_cx'@'%' IDENTIFIED BY :pw"), {"pw": password})
        conn.execute(sa.text(f"GRANT ALL ON `{database}`.* TO 'ohub_cx'@'%'"))
    try:
        _orders(admin, [(1, BASE), (2, BASE)])
        monkeypatch.setenv("VENDOR_DB_PASSWORD", password)
        config = SqlConfig(url=f"mysql+pymysql://ohub_cx@127.0.0.1:3306/{database}",
                           password={"env": "VENDOR_DB_PASSWORD"})
        connector = SqlConnector("vendor", config, tmp_path)
        assert connector.read_path("orders") == "connectorx"
        _no_general_reader(monkeypatch)
        batches = _read(connector, "orders", ReadOptions(key=("id",), cursor_field="updated_at"))
        connector.close()
        assert [i for b in batches for i in b.batch.column("id").to_pylist()] == [1, 2]
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text("DROP USER IF EXISTS 'ohub_cx'@'%'"))
        admin.dispose()


# -- writes -----------------------------------------------------------------------------------

def _rich_batch(ids: list[int], label: str) -> pa.RecordBatch:
    n = len(ids)
    return pa.RecordBatch.from_pydict({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"{label} Ковальчук\t\"{i}\"\n\\" if i % 3 else None for i in ids]),
        "amount": pa.array([Decimal(i * 1000) / 100 - Decimal("99999.99") for i in ids], pa.decimal128(12, 2)),
        "big": pa.array([2**62 + i for i in ids], pa.int64()),
        "seen_at": pa.array([datetime(2026, 1, 2, 3, 4, 5, i) for i in ids], pa.timestamp("us")),
        "stamped_at": pa.array([datetime(2026, 1, 2, tzinfo=UTC) + timedelta(minutes=i) for i in ids],
                               pa.timestamp("us", "UTC")),
        "born": pa.array([date(2000, 1, 1) + timedelta(days=i) for i in ids], pa.date32()),
        "active": pa.array([i % 2 == 0 for i in ids]),
        "score": pa.array([i / 3 for i in ids], pa.float64()),
        "flag": pa.array([None] * n, pa.string()),
    })


def _table_rows(engine: sa.Engine, name: str) -> list[dict]:
    with engine.connect() as conn:
        table = sa.Table(name, sa.MetaData(), autoload_with=conn)
        return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c.id))]


def _write_script(connector: SqlConnector, stream: str) -> None:
    """Insert, upsert a mix of existing and new keys (one key twice), then delete some."""
    connector.write(stream, _rich_batch([1, 2, 3, 4], "first"), WriteMode.UPSERT, key=("id",), batch_id="1")
    mixed = pa.concat_batches([_rich_batch([3, 4, 5], "second"), _rich_batch([5, 6], "third")])
    connector.write(stream, mixed, WriteMode.UPSERT, key=("id",), batch_id="2")
    connector.write(stream, mixed, WriteMode.UPSERT, key=("id",), batch_id="2")  # a retry changes nothing
    connector.write(stream, _rich_batch([2, 6, 99], "gone").select(["id"]), WriteMode.DELETE, key=("id",),
                    batch_id="3")
    connector.write(stream, _rich_batch([7], "appended"), WriteMode.APPEND, key=("id",), batch_id="4")


def test_copy_writes_match_executemany_writes_on_postgres(postgres_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    general = _connector(postgres_url, tmp_path, fast=False)
    _write_script(general, "by_rows")

    copies, write_copy = [], paths_module.write_copy
    monkeypatch.setattr(paths_module, "write_copy", lambda *args: copies.append(args[3]) or write_copy(*args))
    monkeypatch.setattr(paths_module, "write_rows", _refuse_rows)
    fast = _connector(postgres_url, tmp_path)
    _write_script(fast, "by_copy")
    fast.close()

    assert copies == [WriteMode.UPSERT, WriteMode.UPSERT, WriteMode.UPSERT, WriteMode.DELETE, WriteMode.APPEND]
    by_copy, by_rows = _table_rows(general.engine, "by_copy"), _table_rows(general.engine, "by_rows")
    general.close()
    assert by_copy == by_rows
    assert [r["id"] for r in by_copy] == [1, 3, 4, 5, 7]
    assert by_copy[3]["name"] == "third Ковальчук\t\"5\"\n\\"  # the later of two rows with one key wins
    assert by_copy[1]["amount"] == Decimal("-99969.99") and by_copy[1]["big"] == 2**62 + 3
    assert by_copy[1]["stamped_at"] == datetime(2026, 1, 2, 0, 3, tzinfo=UTC)
    assert by_copy[1]["name"] is None and by_copy[1]["flag"] is None


def _refuse_rows(*args):
    raise AssertionError("executemany ran where COPY should have")


def test_written_values_read_back_unchanged(server, tmp_path: Path):
    _name, url = server
    connector = _connector(url, tmp_path)
    _write_script(connector, "customers")
    [batch, _end] = _read(connector, "customers", ReadOptions(key=("id",), batch_size=100))
    connector.close()
    expected = {r["id"]: r for r in _rich_batch([1, 3, 4, 5, 7], "").to_pylist()}
    got = batch.batch.to_pylist()
    assert [r["id"] for r in got] == [1, 3, 4, 5, 7]
    for row in got:
        want = expected[row["id"]]
        assert row["amount"] == want["amount"] and row["big"] == want["big"] and row["born"] == want["born"]
        # A DATETIME the connector creates on MariaDB keeps whole seconds (see docs/connectors/sql.md).
        assert row["seen_at"].replace(microsecond=0) == want["seen_at"].replace(microsecond=0)
        assert bool(row["active"]) == want["active"] and row["flag"] is None
    assert got[3]["name"] == "third Ковальчук\t\"5\"\n\\"


def test_a_rejected_copy_names_no_value_and_writes_nothing(postgres_url: str, tmp_path: Path):
    connector = _connector(postgres_url, tmp_path)
    connector.write("codes", pa.RecordBatch.from_pydict({"id": pa.array([1], pa.int64()), "label": ["kept"]}),
                    WriteMode.UPSERT, key=("id",), batch_id="1")
    bad = pa.RecordBatch.from_pydict({"id": ["2", "Sup3rSecretValue"], "label": ["new", "x"]})
    for mode in (WriteMode.UPSERT, WriteMode.APPEND):
        with pytest.raises(FatalError) as caught:
            connector.write("codes", bad, mode, key=("id",), batch_id="2")
        assert "Sup3rSecretValue" not in str(caught.value)
        assert "rejected" in str(caught.value) and "codes" in str(caught.value)
    rows = _table_rows(connector.engine, "codes")
    connector.close()
    assert rows == [{"id": 1, "label": "kept"}]


def test_a_schema_qualified_postgres_table_is_read_and_written_through_the_fast_paths(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text('CREATE SCHEMA "Sales Data"'))
    admin.dispose()
    connector = _connector(postgres_url, tmp_path, schema_name="Sales Data")
    monkeypatch.setattr(paths_module, "write_rows", _refuse_rows)
    _no_general_reader(monkeypatch)
    connector.write("Order Lines", _rich_batch([1, 2], "a"), WriteMode.UPSERT, key=("id",), batch_id="1")
    connector.write("Order Lines", _rich_batch([2, 3], "b"), WriteMode.UPSERT, key=("id",), batch_id="2")
    batches = _read(connector, "Order Lines", ReadOptions(key=("id",), batch_size=2))
    connector.close()
    assert [b.batch.num_rows for b in batches] == [2, 1, 0]
    assert batches[0].batch.column("name").to_pylist()[1] == "b Ковальчук\t\"2\"\n\\"


def test_driver_errors_are_typed_and_a_fast_reader_never_shows_the_password(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    from officehub.canonical_model.errors import RetriableError
    from officehub.connectors.sql.errors import DriverError, translate

    error = translate(DriverError("adbc", "OperationalError", retriable=True), "crm", "customers")
    assert isinstance(error, RetriableError) and "adbc OperationalError" in str(error)
    monkeypatch.setenv("CRM_DB_PASSWORD", "Sup3rSecret")
    config = SqlConfig(url="postgresql+psycopg://app@127.0.0.1:5432/test", password={"env": "CRM_DB_PASSWORD"})
    reader = paths_module.fast_reader(SqlConnector("crm", config, tmp_path)._url(), postgresql.dialect(), 5)
    assert reader is not None and "Sup3rSecret" not in repr(reader)


def test_the_first_read_of_an_incremental_stream_goes_in_key_order_and_misses_nothing(
        server, tmp_path: Path):
    name, url = server
    ids = list(range(1, 2_001))
    random.Random(5).shuffle(ids)  # change times do not follow the key
    rows = [(i, BASE + timedelta(seconds=n // 3)) for n, i in enumerate(ids)]
    connector = _connector(url, tmp_path)
    _orders(connector.engine, rows)
    options = ReadOptions(key=("id",), cursor_field="updated_at", batch_size=300)

    batches = _read(connector, "orders", options)
    read = [i for b in batches for i in b.batch.column("id").to_pylist()]
    assert read == sorted(ids)  # sequential on disk, not by change time
    newest = max(rows, key=lambda r: (r[1], r[0]))
    assert batches[-1].cursor == {"after": [newest[1].isoformat(), newest[0]]}
    assert all("initial" in b.cursor for b in batches[:-1])

    # A crash mid-way resumes in key order from the stored cursor.
    rest = [i for b in _read(connector, "orders", options, batches[2].cursor) for i in b.batch.column("id").to_pylist()]
    assert rest == sorted(ids)[900:]

    # Afterwards the stream is incremental: only rows changed since the scan began come back.
    with connector.engine.begin() as conn:
        table = sa.Table("orders", sa.MetaData(), autoload_with=conn)
        conn.execute(sa.update(table).where(table.c.id == 7).values(updated_at=newest[1] + timedelta(hours=1)))
    again = [i for b in _read(connector, "orders", options, batches[-1].cursor)
             for i in b.batch.column("id").to_pylist()]
    connector.close()
    assert again == [7]


def test_copy_keeps_empty_text_apart_from_null(postgres_url: str, tmp_path: Path):
    connector = _connector(postgres_url, tmp_path)
    batch = pa.RecordBatch.from_pydict({"id": pa.array([1, 2, 3], pa.int64()),
                                        "label": pa.array(["", None, '""'], pa.string())})
    connector.write("labels", batch, WriteMode.UPSERT, key=("id",), batch_id="1")
    rows = _table_rows(connector.engine, "labels")
    connector.close()
    assert [r["label"] for r in rows] == ["", None, '""']
