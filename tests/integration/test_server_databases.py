"""The demo estate with the hub store and the reporting destination on real database servers."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.store.migrate import HEAD
from tests.helpers import canonical_names, named, sync_all, table_rows


def _point(folder: Path, store_url: str, reporting_url: str) -> None:
    config = folder / "officehub.yaml"
    config.write_text(config.read_text().replace("sqlite:///.officehub/hub.db", store_url))
    systems = folder / "systems" / "destinations.yaml"
    systems.write_text(systems.read_text().replace("sqlite:///out/reporting.db", reporting_url))


@pytest.mark.parametrize("server", ["postgres", "mariadb"])
def test_demo_estate_on_a_database_server(server: str, request: pytest.FixtureRequest, demo_project):
    url = request.getfixturevalue(f"{server}_url")
    folder = demo_project(server)
    _point(folder, url, url)

    first = sync_all(folder)
    second = sync_all(folder)

    assert {r.status for r in first.values()} == {"succeeded"}, {n: r.error for n, r in first.items()}
    assert all(r.metrics.records_written == 0 for r in second.values())
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        golden = conn.execute(sa.text("SELECT count(*) FROM customer")).scalar_one()
        reported = conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one()
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("employees")}
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("customer")}
    engine.dispose()
    # Every CRM customer, plus the accounting debtors that matched none of them.
    debtors = first["accounting_debtors_in"].metrics
    assert golden == reported == \
        first["crm_customers_in"].metrics.records_written + debtors.records_written - debtors.records_linked
    assert debtors.records_linked > 100
    assert revision == HEAD
    assert "ix_customer_purge_after" in indexes
    assert "health_restrictions" not in columns and "background_check" not in columns


def test_postgres_and_sqlite_hub_stores_hold_the_same_golden_records(demo_project, postgres_url: str):
    lite = demo_project("lite")
    pg = demo_project("pg")
    _point(pg, postgres_url, "sqlite:///out/reporting.db")
    sync_all(lite)
    sync_all(pg)
    # A child row's content hash covers its parent's canonical id, new in each hub store. A sole
    # copy's change time reads back with its zone from PostgreSQL only (as the source layer's did).
    ignore = ("updated_at", "created_at", "id", "run_id", "content_hash", "sole_changed_at")
    lite_url = f"sqlite:///{lite / '.officehub' / 'hub.db'}"
    lite_tables = named(table_rows(lite_url, ignore), canonical_names(lite_url))
    pg_tables = named(table_rows(postgres_url, ignore), canonical_names(postgres_url))
    for table in ("customer", "employee", "product", "employee__sick_leave", "product__stock_levels", "xref"):
        assert lite_tables[table] == pg_tables[table], table


def test_a_publish_reads_the_same_changes_through_the_arrow_reader_as_through_sqlalchemy(
        demo_project, postgres_url: str):
    from officehub.store import golden
    from officehub.store.hub import HubStore

    folder = demo_project("pg")
    _point(folder, postgres_url, "sqlite:///out/reporting.db")
    sync_all(folder)
    store = HubStore.open(postgres_url, folder)
    reader = store.arrow_reader()
    try:
        assert reader is not None and reader.name == "adbc"
        with reader.pages() as fetch, store.begin() as conn:
            for entity in ("customer", "employee", "product"):
                for after in (0, 100):
                    plain = golden.changes_since(conn, entity, after, 1_000)
                    arrow = golden.changes_since_arrow(fetch, entity, after, 1_000)
                    assert plain.num_rows > 0 and arrow.equals(plain), entity
    finally:
        store.close()
