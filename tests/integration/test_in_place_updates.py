"""Set-based updates of single-source records give the hub exactly what the row-by-row path gives.

Two hub stores (PostgreSQL, and SQLite) are fed the same two systems and the same stewardship and
erasure steps; then the CRM changes, and its incremental ingest runs in one hub with the
set-based path and in the other with it switched off. Every hub table must come out the
same, and the set-based path must have taken exactly the records it is for.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.config import load_project
from officehub.engine import open_store, sync
from officehub.engine.ingest import Ingest
from officehub.engine.stewardship import Steward
from officehub.engine.subjects import erase
from officehub.store import in_place
from tests.helpers import canonical_names, named, sole_links, table_rows

BEFORE, AFTER = "2026-01-05 09:00:00", "2026-02-01 10:00:00"


@pytest.fixture(params=["postgresql", "sqlite"])
def two_hubs(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Two empty hub stores of one kind: the set-based path's and the row-by-row path's."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fast.db'}", f"sqlite:///{tmp_path / 'slow.db'}"
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("another_postgres_url")


def _project(folder: Path, store_url: str) -> Path:
    folder.mkdir()
    crm = sqlite3.connect(folder / "crm.db")
    crm.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, "
                "notes TEXT, updated_at TEXT)")
    crm.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
                    [(i, f"First{i}", f"Last{i}", f"c{i}@example.org", f"note {i}", BEFORE) for i in range(1, 13)])
    crm.commit()
    crm.close()
    erp = sqlite3.connect(folder / "erp.db")
    erp.execute("CREATE TABLE debtors (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, phone TEXT, "
                "updated_at TEXT)")
    erp.executemany("INSERT INTO debtors VALUES (?, ?, ?, ?, ?)",
                    [(1, "First1", "Last1", "+380441234567", BEFORE), (2, "Other", "Person", None, BEFORE)])
    erp.commit()
    erp.close()
    (folder / "officehub.yaml").write_text(f"""\
hub:
  name: in-place
  store: {store_url}
  batch_size: 100
systems:
  crm: {{type: sql, url: "sqlite:///crm.db"}}
  erp: {{type: sql, url: "sqlite:///erp.db"}}
mappings:
  crm_customers:
    system: crm
    stream: customers
    target: customer
    key: id
    cursor: updated_at
    fields:
      name.first: first_name
      name.last: last_name
      contact.email: email
      notes: notes
  erp_debtors:
    system: erp
    stream: debtors
    target: customer
    key: id
    cursor: updated_at
    fields:
      name.first: first_name
      name.last: last_name
      contact.phone: phone
pipelines:
  crm_in: {{kind: ingest, mapping: crm_customers}}
  erp_in: {{kind: ingest, mapping: erp_debtors}}
""")
    return folder


def _estate(folder: Path) -> dict[str, str]:
    """First loads, a merge, an erasure, a value the CRM mapping does not supply; then the CRM changes.

    Returns the canonical id of each system's record, by "system:vendor id".
    """
    project = load_project(folder)
    results = sync(project, ["crm_in", "erp_in"])
    assert {r.status for r in results} == {"succeeded"}
    store = open_store(project)
    try:
        with store.begin() as conn:
            ids = dict(conn.execute(sa.text("SELECT system || ':' || vendor_id, canonical_id FROM xref")).all())
            ids |= {f"{system}:{vid}": cid for cid, system, vid in sole_links(conn)}
            # A phone in CRM customer 4's own copy (its golden row: the CRM alone supplies it), a
            # column its mapping does not supply.
            conn.execute(sa.text("UPDATE customer SET contact__phone = '+380449876543' "
                                 "WHERE sole_system = 'crm' AND sole_vendor_id = '4'"))
        Steward(project, store, "test").merge("customer", ids["crm:1"], ids["erp:1"])  # two sources
        erase(project, store, ids["crm:2"], "test")
    finally:
        store.close()
    crm = sqlite3.connect(folder / "crm.db")
    crm.execute("UPDATE customers SET notes = notes || ' changed', updated_at = ? WHERE id IN (1, 2, 4, 5, 6, 7, 8, 9)",
                (AFTER,))
    crm.execute("UPDATE customers SET email = 'c6@example.com' WHERE id = 6")
    crm.execute("UPDATE customers SET updated_at = ? WHERE id = 10", (AFTER,))  # read again, values unchanged
    crm.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
                    [(i, f"First{i}", f"Last{i}", f"c{i}@example.org", None, AFTER) for i in (13, 14)])
    crm.commit()
    crm.close()
    return ids


def test_set_based_updates_leave_the_hub_as_the_row_by_row_path_does(
        tmp_path: Path, two_hubs: tuple[str, str], monkeypatch: pytest.MonkeyPatch):
    fast_url, slow_url = two_hubs
    set_based, row_by_row = _project(tmp_path / "set", fast_url), _project(tmp_path / "rows", slow_url)
    ids = _estate(set_based)
    _estate(row_by_row)

    calls: list[in_place.InPlace] = []
    update = in_place.update_single_sources

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(update(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(in_place, "update_single_sources", watched)
    [fast] = sync(load_project(set_based), ["crm_in"])
    monkeypatch.setattr(Ingest, "_update_in_place", lambda self, *args: set())
    [slow] = sync(load_project(row_by_row), ["crm_in"])

    assert fast.status == slow.status == "succeeded", (fast.error, slow.error)
    [done] = calls
    # Customers 5-9 changed and 10 did not; 1 has two sources, 2 was erased, 4 holds a value
    # the CRM does not supply, 13 and 14 are new: those six take the row-by-row path.
    assert sorted(done.updated, key=int) == ["5", "6", "7", "8", "9"]
    assert done.unchanged == ["10"]
    assert done.versions == 5
    assert vars(fast.metrics) == vars(slow.metrics)
    # Written: 1, 4, 5-9, 13, 14; unchanged: 10, and 2 (erased records are never taken in again).
    assert (fast.metrics.records_written, fast.metrics.records_unchanged) == (9, 2)

    # Change numbers are handed out in another order (the set-based updates come first);
    # how many were handed out is compared through the change counter.
    ignore = ("updated_at", "created_at", "id", "run_id", "changed_at", "change_seq", "deleted_at", "erased_at", "at")
    fast_tables = named(table_rows(fast_url, ignore), canonical_names(fast_url))
    slow_tables = named(table_rows(slow_url, ignore), canonical_names(slow_url))
    for table in ("customer", "customer__history", "customer__source", "xref", "change_counter"):
        assert fast_tables[table] == slow_tables[table], table

    engine = sa.create_engine(fast_url)
    try:
        with engine.connect() as conn:
            golden = {r.canonical_id: r for r in conn.execute(sa.text(
                "SELECT canonical_id, version, contact__email, contact__phone, notes, lineage FROM customer"))}
            times = dict(conn.execute(sa.text(
                "SELECT vendor_id, changed_at FROM customer__source WHERE system = 'crm' "
                "UNION ALL SELECT sole_vendor_id, sole_changed_at FROM customer WHERE sole_system = 'crm'")).all())
    finally:
        engine.dispose()
    assert golden[ids["crm:6"]].contact__email == "c6@example.com"
    assert golden[ids["crm:6"]].version == 2 and golden[ids["crm:6"]].lineage is None
    assert golden[ids["crm:4"]].contact__phone == "+380449876543"  # kept by the row-by-row merge
    assert golden[ids["crm:1"]].notes == "note 1 changed"
    assert golden[ids["crm:1"]].lineage is not None  # two sources: survivorship decided, row by row
    assert _iso(times["5"]).startswith("2026-02-01T10:00:00")  # the source's own change time
    assert _iso(times["10"]).startswith("2026-01-05T09:00:00")  # unchanged: not touched


def _iso(moment: object) -> str:
    """A time read back raw: PostgreSQL gives a datetime, SQLite its text."""
    return str(moment).replace(" ", "T")


def test_a_batch_of_mostly_new_records_switches_the_set_based_path_off(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch):
    folder = _project(tmp_path / "hub", postgres_url)
    project = load_project(folder)
    sync(project, ["crm_in"])
    crm = sqlite3.connect(folder / "crm.db")
    crm.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
                    [(i, f"First{i}", f"Last{i}", f"c{i}@example.org", None, AFTER) for i in range(100, 350)])
    crm.commit()
    crm.close()
    calls: list[int] = []
    update = in_place.update_single_sources

    def watched(conn, entity, system, values, vendor_ids, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(vendor_ids))
        return update(conn, entity, system, values, vendor_ids, *args, **kwargs)

    monkeypatch.setattr(in_place, "update_single_sources", watched)
    [result] = sync(project, ["crm_in"])
    assert result.metrics.records_written == 250
    # Three batches of new records, continuing from a checkpoint: the first tried the
    # set-based path, found nothing it could take, and the other two went row by row.
    assert calls == [100]
