"""Hub-store upkeep: schema upgrades of an existing store, and planner statistics while tables grow."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from officehub.store import migrate
from officehub.store.hub import HubStore


def _store_at(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    config = migrate._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


@pytest.mark.parametrize("server", ["sqlite", "postgres", "mariadb"])
def test_a_store_at_revision_2_gains_the_purge_index_when_opened(server: str, request: pytest.FixtureRequest,
                                                                 tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'hub.db'}" if server == "sqlite" else request.getfixturevalue(f"{server}_url")
    _store_at(url, "0002")
    store = HubStore.open(url, tmp_path)
    try:
        with store.engine.connect() as conn:
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
            indexes = {entity: {i["name"] for i in sa.inspect(conn).get_indexes(entity)}
                       for entity in ("customer", "employee", "product")}
            options = conn.execute(sa.text(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN ('xref', 'customer__source', 'customer')"
            )).all() if server == "postgres" else []
    finally:
        store.close()
    assert revision == migrate.HEAD
    assert all(f"ix_{entity}_purge_after" in names for entity, names in indexes.items()), indexes
    if server == "postgres":  # room for heap-only updates where incremental syncs rewrite rows
        assert dict(options) == {"xref": ["fillfactor=85"], "customer__source": ["fillfactor=85"], "customer": None}


def _add_xrefs(store: HubStore, start: int, count: int) -> None:
    with store.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO xref (system, entity, vendor_id, canonical_id) "
            "SELECT 'crm', 'customer', g::text, md5(g::text) FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g"),
            {"a": start, "b": start + count - 1})


def _planner_rows(store: HubStore) -> float:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'xref'")).scalar_one()


def test_statistics_are_refreshed_as_a_load_doubles_the_tables_and_not_for_a_small_increment(
        postgres_url: str, tmp_path: Path):
    tables = {"xref": ("system", "entity", "vendor_id", "canonical_id")}
    load = HubStore.open(postgres_url, tmp_path)
    try:
        _add_xrefs(load, 1, 30_000)
        load.grew(tables, 30_000)            # a first load: the planner learns the table's size
        assert _planner_rows(load) == pytest.approx(30_000, rel=0.05)
    finally:
        load.close()

    increment = HubStore.open(postgres_url, tmp_path)   # a later run, in a new process
    try:
        _add_xrefs(increment, 30_001, 10_000)
        increment.grew(tables, 10_000)       # a third more rows: the plans stay as they are, nothing analysed
        assert _planner_rows(increment) == pytest.approx(30_000, rel=0.05)
        _add_xrefs(increment, 40_001, 25_000)
        increment.grew(tables, 25_000)       # now the new rows outnumber what the planner knew
        assert _planner_rows(increment) == pytest.approx(65_000, rel=0.05)
    finally:
        increment.close()


def test_the_head_revision_the_code_names_is_the_newest_migration_script():
    assert migrate.head_revision() == migrate.HEAD


def test_a_store_already_at_the_newest_schema_opens_without_loading_alembic(tmp_path: Path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    HubStore.open(url, tmp_path).close()           # creates and migrates the store
    probe = ("import sys; from pathlib import Path; from officehub.store.hub import HubStore; "
             f"HubStore.open({url!r}, Path('.')).close(); print('alembic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
