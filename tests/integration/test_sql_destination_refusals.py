"""What a SQL destination refuses: one record's problem stays that record's, a table's shape is changed
only where allowed, against real PostgreSQL 15 and MariaDB 10.11."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.connectors import RejectedRecords, WriteMode
from officehub.connectors.sql import SqlConfig, SqlConnector

SERVERS = ["postgres", "mariadb"]


@pytest.fixture(params=SERVERS)
def server_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=[True, False], ids=["fast-paths", "sqlalchemy-only"])
def fast_paths(request: pytest.FixtureRequest) -> bool:
    return request.param


def _connector(url: str, tmp_path: Path, **settings) -> SqlConnector:
    return SqlConnector("reporting", SqlConfig(url=url, **settings), tmp_path)


def _rows(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def _people(url: str) -> None:
    """A table someone else owns: a key, and a second unique index on the e-mail."""
    _execute(url, "CREATE TABLE people (id VARCHAR(20) PRIMARY KEY, email VARCHAR(100) NOT NULL, "
                  "name VARCHAR(100), CONSTRAINT people_email_unique UNIQUE (email))",
             "INSERT INTO people VALUES ('1', 'a@example.org', 'Koval'), ('2', 'b@example.org', 'Bondar')")


def _batch(rows: list[tuple[str, str, str]]) -> pa.RecordBatch:
    ids, emails, names = zip(*rows, strict=True)
    return pa.RecordBatch.from_pydict({"id": list(ids), "email": list(emails), "name": list(names)})


# -- 1. U+0000 at PostgreSQL ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [WriteMode.UPSERT, WriteMode.APPEND])
def test_a_nul_character_rejects_only_its_record_at_postgres(postgres_url: str, tmp_path: Path, fast_paths: bool,
                                                             mode: WriteMode):
    notes = [f"note {i}" for i in range(130)]
    notes[7] = "before\x00after"
    batch = pa.RecordBatch.from_pydict({"id": [str(i) for i in range(130)], "note": notes,
                                        "city": ["Lviv"] * 7 + ["Kyiv\x00"] + ["Lviv"] * 122})
    with _connector(postgres_url, tmp_path, fast_paths=fast_paths) as connector:
        with pytest.raises(RejectedRecords) as caught:
            connector.write("notes", batch, mode, key=("id",), batch_id="000001-000130")
    refused = caught.value
    assert refused.written == 129 and refused.system == "reporting" and refused.stream == "notes"
    [reject] = refused.rejects
    assert reject.position == "batch 000001-000130 row 7"
    assert "fields note, city hold a NUL character" in reject.reason
    assert "before" not in reject.reason and "Kyiv" not in reject.reason
    assert reject.raw["id"] == "7"  # the whole record waits in the quarantine
    stored = _rows(postgres_url, "SELECT id FROM notes")
    assert sorted(int(i) for (i,) in stored) == [i for i in range(130) if i != 7]


def test_mariadb_stores_a_nul_character(mariadb_url: str, tmp_path: Path):
    batch = pa.RecordBatch.from_pydict({"id": ["1"], "note": ["a\x00b"]})
    with _connector(mariadb_url, tmp_path) as connector:
        assert connector.write("notes", batch, WriteMode.UPSERT, key=("id",), batch_id="b") == 1
    assert _rows(mariadb_url, "SELECT note FROM notes") == [("a\x00b",)]


# -- 2. unique indexes other than the key -----------------------------------------------------------------

def test_an_upsert_never_overwrites_the_row_another_unique_index_matches(server_url: str, tmp_path: Path,
                                                                         fast_paths: bool):
    _people(server_url)
    batch = _batch([("3", "a@example.org", "Shevchuk"),   # new, but row 1 holds its e-mail
                    ("2", "b@example.org", "Bondarenko"),  # an ordinary update
                    ("4", "d@example.org", "Melnyk"),      # an ordinary insert
                    ("2", "a@example.org", "Bondar")])     # the last for key 2 wins: takes row 1's e-mail
    with _connector(server_url, tmp_path, fast_paths=fast_paths) as connector:
        with pytest.raises(RejectedRecords) as caught:
            connector.write("people", batch, WriteMode.UPSERT, key=("id",), batch_id="b7")
    refused = caught.value
    assert [r.position for r in refused.rejects] == ["batch b7 row 0", "batch b7 row 3"]
    for reject in refused.rejects:
        assert "unique index" in reject.reason and "email" in reject.reason
        assert "matched on id only" in reject.reason and "a@example.org" not in reject.reason
    assert refused.written == 2
    assert sorted(_rows(server_url, "SELECT id, email, name FROM people")) == [
        ("1", "a@example.org", "Koval"), ("2", "b@example.org", "Bondar"), ("4", "d@example.org", "Melnyk")]


def test_two_new_records_sharing_a_unique_value_write_the_first_and_reject_the_second(
        server_url: str, tmp_path: Path, fast_paths: bool):
    _people(server_url)
    batch = _batch([("5", "e@example.org", "Tkachenko"), ("6", "e@example.org", "Kravets"),
                    ("7", "g@example.org", "Lysenko")])
    with _connector(server_url, tmp_path, fast_paths=fast_paths) as connector:
        with pytest.raises(RejectedRecords) as caught:
            connector.write("people", batch, WriteMode.UPSERT, key=("id",), batch_id="b8")
    assert [r.position for r in caught.value.rejects] == ["batch b8 row 1"]
    assert sorted(_rows(server_url, "SELECT id FROM people")) == [("1",), ("2",), ("5",), ("7",)]


def test_an_append_that_collides_rejects_that_record_alone(server_url: str, tmp_path: Path, fast_paths: bool):
    _people(server_url)
    batch = _batch([("8", "h@example.org", "Savchenko"), ("1", "i@example.org", "Rudenko")])
    with _connector(server_url, tmp_path, fast_paths=fast_paths) as connector:
        with pytest.raises(RejectedRecords) as caught:
            connector.write("people", batch, WriteMode.APPEND, key=("id",), batch_id="b9")
    [reject] = caught.value.rejects
    assert reject.position == "batch b9 row 1" and "unique index" in reject.reason
    assert sorted(_rows(server_url, "SELECT id, name FROM people")) == [
        ("1", "Koval"), ("2", "Bondar"), ("8", "Savchenko")]


def test_a_clean_upsert_is_written_whole_and_repeats_harmlessly(server_url: str, tmp_path: Path, fast_paths: bool):
    _people(server_url)
    batch = _batch([("1", "a@example.org", "Koval-Bondar"), ("9", "j@example.org", "Marchenko")])
    with _connector(server_url, tmp_path, fast_paths=fast_paths) as connector:
        for _ in range(2):
            assert connector.write("people", batch, WriteMode.UPSERT, key=("id",), batch_id="b10") == 2
    assert sorted(_rows(server_url, "SELECT id, name FROM people")) == [
        ("1", "Koval-Bondar"), ("2", "Bondar"), ("9", "Marchenko")]


# -- 3. a column the destination table lacks --------------------------------------------------------------

def _with_phone(rows: list[tuple[str, str, str, str | None]]) -> pa.RecordBatch:
    ids, emails, names, phones = zip(*rows, strict=True)
    return pa.RecordBatch.from_pydict({"id": list(ids), "email": list(emails), "name": list(names),
                                       "phone": pa.array(phones, pa.string())})


def test_a_table_the_hub_created_gains_the_new_column(server_url: str, tmp_path: Path, fast_paths: bool):
    with _connector(server_url, tmp_path, fast_paths=fast_paths) as connector:
        connector.write("contacts", _batch([("1", "a@example.org", "Koval")]), WriteMode.UPSERT, key=("id",),
                        batch_id="b1")
    with _connector(server_url, tmp_path, fast_paths=fast_paths) as connector:  # a later run
        written = connector.write("contacts", _with_phone([("2", "b@example.org", "Bondar", "+380441234567")]),
                                  WriteMode.UPSERT, key=("id",), batch_id="b2")
    assert written == 1
    assert sorted(_rows(server_url, "SELECT id, phone FROM contacts")) == [("1", None), ("2", "+380441234567")]


def test_a_table_the_hub_did_not_create_is_not_changed_without_evolve(server_url: str, tmp_path: Path,
                                                                      fast_paths: bool):
    _people(server_url)
    with _connector(server_url, tmp_path, fast_paths=fast_paths) as connector:
        with pytest.raises(FatalError) as caught:
            connector.write("people", _with_phone([("3", "c@example.org", "Shevchuk", "+380441234567")]),
                            WriteMode.UPSERT, key=("id",), batch_id="b1")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("system 'reporting' stream 'people': table people")
    assert "no column phone" in message and "schema_changes: evolve" in message
    assert "+380" not in message
    assert _rows(server_url, "SELECT COUNT(*) FROM people") == [(2,)]  # nothing of the batch was written


def test_an_all_null_unknown_column_is_left_out_rather_than_refused(server_url: str, tmp_path: Path):
    _people(server_url)
    with _connector(server_url, tmp_path) as connector:
        assert connector.write("people", _with_phone([("3", "c@example.org", "Shevchuk", None)]),
                               WriteMode.UPSERT, key=("id",), batch_id="b1") == 1
    engine = sa.create_engine(server_url)
    try:
        assert "phone" not in {column["name"] for column in sa.inspect(engine).get_columns("people")}
    finally:
        engine.dispose()


@pytest.mark.parametrize("settings", [{"schema_changes": "evolve"},
                                      {"streams": {"people": {"schema_changes": "evolve"}}}],
                         ids=["system", "stream"])
def test_schema_changes_evolve_adds_the_column_to_any_table(server_url: str, tmp_path: Path, settings: dict):
    _people(server_url)
    with _connector(server_url, tmp_path, **settings) as connector:
        connector.write("people", _with_phone([("3", "c@example.org", "Shevchuk", "+380441234567")]),
                        WriteMode.UPSERT, key=("id",), batch_id="b1")
    assert sorted(_rows(server_url, "SELECT id, phone FROM people")) == [
        ("1", None), ("2", None), ("3", "+380441234567")]


def test_schema_changes_freeze_keeps_even_a_hub_created_table_as_it_is(server_url: str, tmp_path: Path):
    with _connector(server_url, tmp_path) as connector:
        connector.write("contacts", _batch([("1", "a@example.org", "Koval")]), WriteMode.UPSERT, key=("id",),
                        batch_id="b1")
    frozen = {"schema_changes": "evolve", "streams": {"contacts": {"schema_changes": "freeze"}}}
    with _connector(server_url, tmp_path, **frozen) as connector:
        with pytest.raises(FatalError, match="no column phone .* schema_changes is freeze"):
            connector.write("contacts", _with_phone([("2", "b@example.org", "Bondar", "+380441234567")]),
                            WriteMode.UPSERT, key=("id",), batch_id="b2")


def test_a_schema_changes_value_that_is_not_known_is_refused():
    with pytest.raises(ValueError, match="'evolve' or 'freeze'"):
        SqlConfig(url="sqlite:///x.db", schema_changes="add")


# -- through a publish run --------------------------------------------------------------------------------

def test_a_publish_to_postgres_quarantines_the_record_with_a_nul_and_writes_the_others(
        postgres_url: str, tmp_path: Path):
    import sqlite3

    import yaml

    from tests.helpers import sync_all

    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    crm = sqlite3.connect(folder / "data" / "crm.db")
    crm.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, last TEXT)")
    crm.executemany("INSERT INTO people VALUES (?, ?)",
                    [(n, "Kov\x00al" if n == 42 else f"Koval{n}") for n in range(1, 131)])
    crm.commit()
    crm.close()
    (folder / "officehub.yaml").write_text(yaml.safe_dump({
        "systems": {"crm": {"type": "sql", "url": "sqlite:///data/crm.db"},
                    "reporting": {"type": "sql", "url": postgres_url}},
        "mappings": {
            "people_in": {"system": "crm", "stream": "people", "target": "customer", "key": "id",
                          "fields": {"customer_number": "id", "name.last": "last"}},
            "people_out": {"system": "reporting", "stream": "customers", "target": "customer", "key": "id",
                           "fields": {"customer_number": "id", "name.last": "last"}},
        },
        "pipelines": {"people": {"kind": "ingest", "mapping": "people_in"},
                      "customers": {"kind": "publish", "mapping": "people_out", "write_mode": "upsert"}},
        "policies": ["policy.yaml"],
    }))
    (folder / "policy.yaml").write_text(yaml.safe_dump({
        "name": "reporting",
        "agreements": [{"id": "reporting", "destination": "reporting", "purpose": "customer reporting",
                        "legal_basis": "contract", "valid_from": "2020-01-01"}],
        "rules": [{"id": "names", "select": {"field": "customer.name.last"}, "action": "allow"}],
    }))

    results = sync_all(folder)

    publish = results["customers"]
    assert publish.status == "succeeded", publish
    assert (publish.metrics.records_written, publish.metrics.records_quarantined) == (129, 1)
    assert _rows(postgres_url, "SELECT COUNT(*) FROM customers") == [(129,)]
    hub = sa.create_engine(f"sqlite:///{folder / '.officehub' / 'hub.db'}")
    with hub.connect() as conn:
        [(reason,)] = conn.execute(sa.text("SELECT reason FROM quarantine WHERE pipeline = 'customers'")).all()
    hub.dispose()
    assert "field last holds a NUL character" in reason and "Kov" not in reason
