"""Revision 10 indexes the exact-search fields: a store made at revision 9 gains them, and a search uses them.

A store is migrated to revision 9 and given customers and employees, then upgraded. Its golden
tables then hold the same exact-search indexes a new store is made with (``lower(contact__email)``,
the phone, the tax number, the registration number, for the entities that have those fields),
and on PostgreSQL the planner looks a searched e-mail up through its index instead of reading
the whole table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.store import migrate
from officehub.store.hub import HubStore
from officehub.store.schema import hub_metadata

EXPECTED = {"customer": {"ix_customer_email_lower", "ix_customer_phone", "ix_customer_registration_number"},
            "employee": {"ix_employee_email_lower", "ix_employee_phone", "ix_employee_tax_id"}}
_ROWS = 3000


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def _at_revision_9(engine: sa.Engine) -> None:
    from alembic import command

    config = migrate._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0009")


def _golden_rows(entity: str) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for n in range(_ROWS):
        row: dict[str, object] = {"canonical_id": f"{entity[:3]}-{n:08d}", "version": 1, "content_hash": "0" * 64,
                                  "change_seq": n + 1, "schema_version": 1, "updated_at": now,
                                  "contact__email": f"Person.{n}@Example.net", "contact__phone": f"+38067{n:07d}"}
        row["organisation__registration_number" if entity == "customer" else "tax_id__number"] = f"{n:08d}"
        rows.append(row)
    return rows


def _search_indexes(conn: sa.Connection, entity: str) -> set[str]:
    """The exact-search indexes on ``entity``'s golden table, read from the catalogue (SQLAlchemy's
    reflection leaves expression indexes out on SQLite)."""
    if conn.dialect.name == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE tablename = :t"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
    names = set(conn.execute(sa.text(query), {"t": entity}).scalars())
    return {name for name in names if name.startswith(f"ix_{entity}_") and name.endswith(
        ("_email_lower", "_phone", "_tax_id", "_registration_number"))}


def test_a_revision_9_store_gains_the_exact_search_indexes_a_new_store_is_made_with(store_url: str,
                                                                                  tmp_path: Path) -> None:
    store = HubStore(store_url, tmp_path)
    try:
        _at_revision_9(store.engine)
        tables = hub_metadata(9).tables
        with store.begin() as conn:
            for entity in EXPECTED:
                conn.execute(sa.insert(tables[entity]), _golden_rows(entity))
            assert not any(_search_indexes(conn, entity) for entity in EXPECTED)
        assert migrate.upgrade(store.engine) == ("0009", migrate.HEAD)
        with store.begin() as conn:
            upgraded = {entity: _search_indexes(conn, entity) for entity in (*EXPECTED, "product")}
            count = conn.execute(sa.select(sa.func.count()).select_from(tables["customer"])).scalar_one()
    finally:
        store.close()
    # The e-mail's lower() index is PostgreSQL's only (schema.exact_search_indexes says why).
    expected = EXPECTED if store_url.startswith("postgresql") else {
        entity: {name for name in names if not name.endswith("_email_lower")} for entity, names in EXPECTED.items()}
    assert upgraded == {**expected, "product": set()}
    assert count == _ROWS
    new_store = {entity: {index.name for index in hub_metadata().tables[entity].indexes
                          if index.name in EXPECTED[entity] or "email" in str(index.name)} for entity in EXPECTED}
    assert new_store == EXPECTED


def _plan(conn: sa.Connection, stmt: sa.Select) -> str:
    compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN" if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    return "\n".join(str(row[-1]) for row in conn.execute(sa.text(f"{prefix} {compiled}")))


def test_a_search_by_email_phone_or_number_looks_the_value_up_in_its_index(store_url: str, tmp_path: Path) -> None:
    store = HubStore(store_url, tmp_path)
    try:
        store.upgrade()
        table = hub_metadata().tables["customer"]
        with store.begin() as conn:
            conn.execute(sa.insert(table), _golden_rows("customer"))
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE customer"))
        searches = {  # as the hub API's exact search compares them
            "ix_customer_email_lower": sa.func.lower(table.c.contact__email) == "person.1234@example.net",
            "ix_customer_phone": table.c.contact__phone == "+380670001234",
            "ix_customer_registration_number": table.c.organisation__registration_number == "00001234"}
        if store.engine.dialect.name != "postgresql":
            del searches["ix_customer_email_lower"]
        with store.begin() as conn:
            for index, condition in searches.items():
                stmt = sa.select(table.c.canonical_id).where(table.c.status == "active", condition)
                assert conn.execute(stmt).scalars().all() == ["cus-00001234"], index
                assert index in _plan(conn, stmt), (index, _plan(conn, stmt))
    finally:
        store.close()
