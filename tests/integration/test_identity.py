"""Identity resolution end to end: linking, review, survivorship, write-back without echo,
deletes, merge/unmerge and erasure — on SQLite and on the real PostgreSQL and MariaDB
servers as hub stores."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.config import load_project
from officehub.engine import open_store
from officehub.engine.stewardship import Steward
from officehub.engine.subjects import erase, find
from officehub.store import golden, matches, xref
from tests.helpers import sync_all
from tests.integration import identity_estate

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def store_url(request) -> str | None:
    if request.param == "sqlite":
        return None
    return request.getfixturevalue(f"{request.param}_url")


def _estate(tmp_path: Path, store_url: str | None = None, **options) -> Path:
    folder = identity_estate.build(tmp_path / "estate", store_url, **options)
    results = sync_all(folder)
    assert {r.status for r in results.values()} == {"succeeded"}, {n: r.error for n, r in results.items()}
    return folder


def _cid(folder: Path, system: str, vendor_id: str, entity: str = "customer") -> str:
    project = load_project(folder)
    store = open_store(project)
    try:
        with store.begin() as conn:
            return xref.lookup(conn, system, entity, [vendor_id])[vendor_id]
    finally:
        store.close()


def _hub(folder: Path):
    project = load_project(folder)
    return project, open_store(project)


def _sqlite(folder: Path, name: str, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(folder / name) as db:
        rows = db.execute(sql, args).fetchall()
    return rows


def _written(results) -> dict[str, int]:
    return {name: r.metrics.records_written for name, r in results.items()}


def test_copies_in_two_systems_are_linked_and_a_near_duplicate_waits_for_review(tmp_path, store_url):
    folder = _estate(tmp_path, store_url)
    assert _cid(folder, "acct", "D-1") == _cid(folder, "crm", "1")  # same e-mail, different spelling
    assert _cid(folder, "acct", "D-2") == _cid(folder, "crm", "2")  # Kowalenko ~ Kovalenko, same birth date
    assert _cid(folder, "acct", "D-3") == _cid(folder, "crm", "3")
    bondarenko, bondar = _cid(folder, "acct", "D-4"), _cid(folder, "crm", "3")
    assert bondarenko != bondar
    project, store = _hub(folder)
    try:
        with store.begin() as conn:
            pending = matches.reviews(conn)
            active = conn.execute(sa.select(sa.func.count()).select_from(store.tables["customer"])
                                  .where(store.tables["customer"].c.status == "active")).scalar_one()
    finally:
        store.close()
    assert [(p["canonical_id"], p["candidate_id"]) for p in pending] == [(bondarenko, bondar)]
    assert 0.6 <= pending[0]["score"] < 0.9
    assert "john" not in json.dumps(pending[0]["evidence"]).lower()
    assert active == 7  # 5 CRM customers + Bondarenko + the accounting-only customer


def test_an_address_change_in_the_crm_reaches_every_system_under_its_own_id_without_ping_pong(tmp_path, store_url):
    folder = _estate(tmp_path, store_url)
    john = _cid(folder, "crm", "1")
    _sqlite(folder, "data/crm.db", "UPDATE customers SET street = '22 New Road', zip = '01999' WHERE id = 1")

    first = sync_all(folder)

    assert _sqlite(folder, "data/acct.db", "SELECT street, zip FROM debtors WHERE acct_no = 'D-1'") == \
        [("22 New Road", "01999")]
    assert _sqlite(folder, "out/reporting.db", "SELECT street FROM customers WHERE hub_id = ?", john) == \
        [("22 New Road",)]
    assert first["acct_out"].metrics.records_written == 1
    assert first["crm_out"].metrics.records_written == 0  # the CRM supplied the change: nothing to send back
    # The accounting package bumped its own change time when the hub wrote to it: the next
    # ingest reads the record back, recognises the hub's own values and changes nothing.
    second, third = sync_all(folder), sync_all(folder)
    assert second["acct_in"].metrics.records_read == 1
    for results in (second, third):
        assert {n: w for n, w in _written(results).items() if n.endswith("_out")} == \
            {"crm_out": 0, "acct_out": 0, "reporting_out": 0}
    record = _golden(folder, john)[john]
    assert record["address__street"] == "22 New Road"
    assert json.loads(record["lineage"])["fields"]["address"] == ["crm", "1"]  # the CRM, not the echo


def test_two_systems_changing_one_field_between_runs_is_resolved_by_survivorship_and_recorded(tmp_path, store_url):
    folder = _estate(tmp_path, store_url)
    olena = _cid(folder, "crm", "2")
    _sqlite(folder, "data/crm.db", "UPDATE customers SET street = '1 CRM Lane' WHERE id = 2")
    _sqlite(folder, "data/acct.db", "UPDATE debtors SET street = '2 Ledger Road' WHERE acct_no = 'D-2'")

    sync_all(folder)

    record = _golden(folder, olena)[olena]
    assert record["address__street"] == "2 Ledger Road"  # most recent wins: accounting changed last
    lineage = json.loads(record["lineage"])
    assert lineage["fields"]["address"] == ["acct", "D-2"]
    assert "address" in lineage["conflicts"]
    assert _sqlite(folder, "data/crm.db", "SELECT street FROM customers WHERE id = 2") == [("2 Ledger Road",)]


def test_a_reported_delete_soft_deletes_only_what_no_other_system_holds_then_purges_after_grace(tmp_path, store_url):
    folder = _estate(tmp_path, store_url, grace_days=0)
    marta, olena = _cid(folder, "acct", "D-9"), _cid(folder, "crm", "2")
    _sqlite(folder, "data/acct.db", "UPDATE debtors SET status = 'X' WHERE acct_no IN ('D-9', 'D-2')")

    results = sync_all(folder)

    assert results["acct_in"].metrics.records_deleted == 1
    rows = _golden(folder, marta, olena)
    assert rows[olena]["status"] == "active"  # the CRM still holds Olena
    assert rows[marta]["status"] == "deleted"
    # Grace period 0: the next ingest purges it, and the publish deletes it downstream.
    sync_all(folder)
    purged = _golden(folder, marta)[marta]
    assert purged["status"] == "purged" and purged["name__last"] is None
    assert _sqlite(folder, "out/reporting.db", "SELECT count(*) FROM customers WHERE hub_id = ?", marta) == [(0,)]


def test_a_complete_snapshot_deletes_what_disappeared_and_refuses_a_suspiciously_short_one(tmp_path, store_url):
    folder = _estate(tmp_path, store_url, crm_deletes="snapshot")
    iryna = _cid(folder, "crm", "4")  # only in the CRM at first; the hub created her in accounting
    assert _sqlite(folder, "data/acct.db", "SELECT count(*) FROM debtors WHERE acct_no = ?", iryna) == [(1,)]
    sync_all(folder)  # accounting's copy is read back
    _sqlite(folder, "data/crm.db", "DELETE FROM customers WHERE id = 4")

    results = sync_all(folder)

    assert results["crm_in"].metrics.records_deleted == 0  # accounting still holds her
    assert _status(folder, iryna) == "active"
    _sqlite(folder, "data/acct.db", "UPDATE debtors SET status = 'X' WHERE acct_no = ?", iryna)
    assert sync_all(folder)["acct_in"].metrics.records_deleted == 1
    assert _status(folder, iryna) == "deleted"
    _sqlite(folder, "data/crm.db", "DELETE FROM customers WHERE id IN (1, 2, 3)")
    refused = sync_all(folder)["crm_in"]
    assert refused.status == "failed" and "max_delete_fraction" in refused.error


def _golden(folder: Path, *canonical_ids: str) -> dict[str, dict]:
    """The golden customer rows of ``canonical_ids``, by id."""
    project, store = _hub(folder)
    try:
        with store.begin() as conn:
            return golden.fetch(conn, "customer", "canonical_id", list(canonical_ids))
    finally:
        store.close()


def _status(folder: Path, canonical_id: str) -> str:
    return _golden(folder, canonical_id)[canonical_id]["status"]


def test_a_merge_is_reversed_exactly_by_unmerge(tmp_path, store_url):
    folder = _estate(tmp_path, store_url)
    bondar, bondarenko = _cid(folder, "crm", "3"), _cid(folder, "acct", "D-4")
    project, store = _hub(folder)
    try:
        with store.begin() as conn:
            before = {cid: {k: v for k, v in row.items() if k in golden.entity_columns("customer")}
                      for cid, row in golden.fetch(conn, "customer", "canonical_id", [bondar, bondarenko]).items()}
            links_before = sorted((x["system"], x["vendor_id"], x["canonical_id"])
                                  for x in xref.of_records(conn, [bondar, bondarenko]))
        steward = Steward(project, store, "test")
        review_id = next(r["id"] for r in _pending(store))
        change = steward.link_review(review_id)
        with store.begin() as conn:
            assert xref.lookup(conn, "acct", "customer", ["D-4"])["D-4"] == bondar
            assert golden.fetch(conn, "customer", "canonical_id", [bondarenko])[bondarenko]["status"] == "merged"
            assert _pending(store) == []
        steward.undo(change.log_id)
        with store.begin() as conn:
            after = {cid: {k: v for k, v in row.items() if k in golden.entity_columns("customer")}
                     for cid, row in golden.fetch(conn, "customer", "canonical_id", [bondar, bondarenko]).items()}
            links_after = sorted((x["system"], x["vendor_id"], x["canonical_id"])
                                 for x in xref.of_records(conn, [bondar, bondarenko]))
            statuses = {cid: row["status"] for cid, row in
                        golden.fetch(conn, "customer", "canonical_id", [bondar, bondarenko]).items()}
        with pytest.raises(FatalError, match="already undone"):
            steward.undo(change.log_id)
    finally:
        store.close()
    assert links_after == links_before
    assert after == before
    assert statuses == {bondar: "active", bondarenko: "active"}


def _pending(store) -> list[dict]:
    with store.begin() as conn:
        return matches.reviews(conn)


def test_erasure_removes_a_person_everywhere_except_under_a_legal_hold(tmp_path, store_url):
    folder = _estate(tmp_path, store_url)
    project, store = _hub(folder)
    try:
        with store.begin() as conn:
            john = {h.entity: h for h in find(conn, "john.smith@example.com")}["customer"]
            taras = {h.entity: h.canonical_id for h in find(conn, "taras@example.com")}
        assert sorted(john.holders) == [("acct", "D-1"), ("crm", "1")]
        assert set(taras) == {"customer", "employee"}

        report = erase(project, store, john.canonical_id, "test")
        held = erase(project, store, taras["employee"], "test")
        with store.begin() as conn:
            erased = golden.fetch(conn, "customer", "canonical_id", [john.canonical_id])[john.canonical_id]
            kept = golden.fetch(conn, "employee", "canonical_id", [taras["employee"]])[taras["employee"]]
    finally:
        store.close()
    outcomes = {line.system: line.outcome for line in report.lines}
    assert outcomes == {"crm": "deleted", "acct": "deleted", "reporting": "deleted", "hub": "erased"}
    assert _sqlite(folder, "data/crm.db", "SELECT count(*) FROM customers WHERE id = 1") == [(0,)]
    assert _sqlite(folder, "data/acct.db", "SELECT count(*) FROM debtors WHERE acct_no = 'D-1'") == [(0,)]
    assert _sqlite(folder, "out/reporting.db", "SELECT count(*) FROM customers WHERE hub_id = ?",
                   john.canonical_id) == [(0,)]
    assert erased["status"] == "erased" and erased["name__first"] is None and erased["contact__email"] is None
    assert not held.erased and held.held_by == ["employee.litigation_hold (legal)"]
    assert {line.outcome for line in held.lines} == {"kept (legal hold)"}
    assert kept["status"] == "active" and kept["name__last"] == "Shevchuk"
    # A later sync neither recreates nor re-sends the erased person.
    results = sync_all(folder)
    assert {r.status for r in results.values()} == {"succeeded"}
    with sqlite3.connect(folder / "out/reporting.db") as db:
        assert db.execute("SELECT count(*) FROM customers WHERE first_name = 'John'").fetchone() == (0,)
