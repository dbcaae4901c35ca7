"""The demo estate end to end: what lands where, what is quarantined, what never leaves."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.helpers import folder_files, hub_links, sync_all, table_rows

SPECIAL_COLUMNS = ("HEALTH_RESTRICTIONS", "BG_CHECK", "LEGAL_HOLD", "health_restrictions", "background_check",
                   "inspector_health")


def _special_values(hr_db: Path) -> set[str]:
    """Every distinctive medical, criminal and legal value the HR and quality apps hold."""
    queries = {hr_db: [
        "SELECT occ_health_restriction FROM employees WHERE occ_health_restriction IS NOT NULL",
        "SELECT diagnosis_code FROM sick_leave", "SELECT matter_ref FROM litigation_holds",
        "SELECT court_order_ref FROM garnishments", "SELECT DISTINCT outcome FROM background_checks"],
        hr_db.with_name("quality.db"): ["SELECT INSPECTOR_HEALTH FROM INSPECTIONS WHERE INSPECTOR_HEALTH IS NOT NULL"]}
    values = set()
    for db, sqls in queries.items():
        with closing(sqlite3.connect(db)) as con:
            values |= {str(row[0]) for q in sqls for row in con.execute(q)}
    return values


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from officehub.demo.seed import seed_estate
    from tests.conftest import copy_demo_config

    folder = copy_demo_config(tmp_path_factory.mktemp("estate"))
    summary = seed_estate(folder / "data")
    return folder, {"summary": summary, "results": sync_all(folder)}


def test_every_pipeline_succeeds(estate):
    _, state = estate
    assert {r.status for r in state["results"].values()} == {"succeeded"}


def test_every_dirty_row_is_quarantined_and_nothing_is_lost(estate):
    folder, state = estate
    results, dirty = state["results"], state["summary"].dirty
    assert results["crm_customers_in"].metrics.records_quarantined == dirty["crm.CUST"]
    assert results["hr_employees_in"].metrics.records_quarantined == dirty["hr.employees"]
    assert results["hr_sick_leave_in"].metrics.records_quarantined == dirty["hr.sick_leave"]
    assert results["inventory_items_in"].metrics.records_quarantined == dirty["inventory.items"]
    assert results["inventory_stock_in"].metrics.records_quarantined == dirty["inventory.stock"]
    for result in results.values():
        m = result.metrics
        if result.kind == "ingest":
            assert m.records_read == m.records_written + m.records_unchanged + m.records_quarantined
    con = sqlite3.connect(folder / ".officehub" / "hub.db")
    stored = con.execute("SELECT count(*) FROM quarantine WHERE status = 'open'").fetchone()[0]
    positions = {r[0] for r in con.execute("SELECT position FROM quarantine")}
    con.close()
    assert stored == sum(dirty.values())
    assert any(p.startswith("ITEMS_20261101.TXT:") for p in positions)


def test_golden_records_and_child_tables_hold_the_clean_rows(estate):
    folder, state = estate
    summary = state["summary"]
    con = sqlite3.connect(folder / ".officehub" / "hub.db")
    count = lambda table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731
    # CRM customers, plus the accounting debtors no CRM customer matched (new ones, and the
    # near duplicates that wait in the review queue as records of their own).
    identity = summary.identity
    assert count("customer") == summary.customers - summary.dirty["crm.CUST"] + len(identity.new) + len(identity.review)
    assert count("match_review") == len(identity.review)
    assert count("employee") == summary.employees - summary.dirty["hr.employees"]
    assert count("product") == summary.products - summary.dirty["inventory.items"]
    assert count("employee__sick_leave") == 88 - summary.dirty["hr.sick_leave"]
    assert count("product__stock_levels") > summary.products
    phone, birth = con.execute(
        "SELECT contact__phone, birth_date FROM customer WHERE contact__phone IS NOT NULL LIMIT 1").fetchone()
    assert phone.startswith("+") and birth[4] == "-"
    versions = con.execute("SELECT DISTINCT version FROM employee ORDER BY 1").fetchall()
    assert (1,) in versions and len(versions) > 1  # extended by background checks, sick leave...
    xrefs = len({system for system, *_ in hub_links(con)})
    con.close()
    assert xrefs == 5  # crm, accounting, hr, inventory, quality


def test_records_of_the_declared_entities_attach_to_what_they_refer_to(estate):
    folder, state = estate
    dirty = state["summary"].dirty
    results = state["results"]
    for pipeline, stream in (("accounting_suppliers_in", "accounting.SUPPLIERS"),
                             ("accounting_invoices_in", "accounting.INVOICES"),
                             ("quality_lots_in", "quality.LOTS"), ("quality_inspections_in", "quality.INSPECTIONS")):
        assert results[pipeline].metrics.records_quarantined == dirty[stream], pipeline
    with closing(sqlite3.connect(folder / ".officehub" / "hub.db")) as hub:
        ids = {(system, vendor): canonical for system, _, vendor, canonical in hub_links(hub)}
        invoices = hub.execute("SELECT number, customer FROM invoice").fetchall()
        inspections = hub.execute("SELECT inspection_id, lot, inspector FROM inspection").fetchall()
    with closing(sqlite3.connect(folder / "data" / "accounting.db")) as acc:
        account_of = dict(acc.execute("SELECT INV_NO, ACCT_NO FROM INVOICES"))
    # Each invoice holds the golden customer its debtor account is linked to (often one the CRM supplied).
    assert invoices and all(customer == ids["accounting", account_of[number]] for number, customer in invoices)
    golden_customers = {c for (system, _), c in ids.items() if system == "crm"}
    assert any(customer in golden_customers for _, customer in invoices)
    with closing(sqlite3.connect(folder / "data" / "quality.db")) as qc:
        source = {i: (lot, who) for i, lot, who in qc.execute("SELECT INSP_ID, LOT_NO, INSPECTOR FROM INSPECTIONS")}
    assert inspections and all((lot, inspector) == (ids["quality", source[i][0]], ids["hr", source[i][1]])
                               for i, lot, inspector in inspections)


RESULTS = {"pass", "fail", "rework"}

#: How the quarantine reason starts for each kind of dirty row of the declared entities.
WHY = {
    "edrpou": "registration_number: not a valid ua.edrpou: The number's checksum or check digit is invalid",
    "account": "customer: no customer from accounting with this id in the hub yet",
    "sku": "product: no product from inventory with this id in the hub yet",
    "inspector": "inspector: no employee from hr with this id in the hub yet",
    "result": "result: Input should be 'pass', 'fail' or 'rework'",
}


def _rows(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as con:
        return con.execute(sql).fetchall()


def _dirty_rows(data: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """Per ingest pipeline of a declared entity, each source row it must refuse, worked out from
    the apps' own data: its key → (the value that is wrong, the kind of defect)."""
    from stdnum.ua import edrpou, rntrc

    accounts = {a for (a,) in _rows(data / "accounting.db", "SELECT ACCT_NO FROM DEBTORS")}
    staff = {e for (e,) in _rows(data / "hr.db", "SELECT emp_id FROM employees")}
    items = (data / "inventory" / "export" / "ITEMS_20261101.TXT").read_bytes().splitlines()
    skus = {line[:10].decode("cp1251").strip() for line in items}
    suppliers = _rows(data / "accounting.db", "SELECT SUPP_NO, REG_CODE FROM SUPPLIERS")
    invoices = _rows(data / "accounting.db", "SELECT INV_NO, ACCT_NO FROM INVOICES")
    lots = _rows(data / "quality.db", "SELECT LOT_NO, SKU FROM LOTS")
    inspections = _rows(data / "quality.db", "SELECT INSP_ID, INSPECTOR, RESULT FROM INSPECTIONS")
    return {
        "accounting_suppliers_in": {n: (c, "edrpou") for n, c in suppliers
                                    if not (edrpou.is_valid(c) or rntrc.is_valid(c))},
        "accounting_invoices_in": {n: (a, "account") for n, a in invoices if a not in accounts},
        "quality_lots_in": {n: (sku, "sku") for n, sku in lots if sku not in skus},
        "quality_inspections_in": {**{i: (r, "result") for i, _, r in inspections if r not in RESULTS},
                                   **{i: (e, "inspector") for i, e, _ in inspections if e not in staff}},
    }


def test_dirty_suppliers_invoices_lots_and_inspections_are_quarantined_for_what_is_wrong(estate):
    folder, state = estate
    expected = _dirty_rows(folder / "data")
    held = _rows(folder / ".officehub" / "hub.db",
                 "SELECT pipeline, position, reason FROM quarantine WHERE status = 'open'")
    for pipeline, rows in expected.items():
        reasons = {position: reason for p, position, reason in held if p == pipeline}
        assert rows and set(reasons) == {f"row {key}" for key in rows}, pipeline
        assert len(rows) == state["results"][pipeline].metrics.records_quarantined, pipeline
        for key, (value, defect) in rows.items():
            assert reasons[f"row {key}"].startswith(WHY[defect]), pipeline
            assert value not in reasons[f"row {key}"], f"{pipeline}: a reason quotes the value it refused"


def test_payroll_is_sent_nothing_of_the_declared_entities(estate):
    # No pipeline sends them to payroll, and if one ever did, the payroll policy would drop every field.
    from officehub.config import load_project
    from tests.helpers import run_cli

    folder, _ = estate
    config = load_project(folder).config
    to_payroll = {config.mappings[p.mapping].target for p in config.pipelines.values()
                  if p.kind == "publish" and config.mappings[p.mapping].system == "payroll"}
    assert to_payroll == {"employee"}
    ran = run_cli("-p", str(folder), "policy", "explain", "--destination", "payroll", "--json")
    assert ran.returncode == 0, ran.stderr
    explained = json.loads(ran.stdout)
    for entity in ("supplier", "invoice", "product_lot", "inspection"):
        assert {row["action"] for row in explained[entity]["fields"]} == {"drop"}, entity


def test_no_special_category_value_reaches_the_payroll_drop(estate):
    folder, _ = estate
    secrets = _special_values(folder / "data" / "hr.db")
    assert len(secrets) > 20
    files = folder_files(folder / "out" / "payroll")
    assert files, "the payroll drop folder is empty"
    for name, payload in files.items():
        text = payload.decode("utf-8")
        header, *rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert not set(header) & set(SPECIAL_COLUMNS), name
        assert {"PERSNR", "FULL_NAME", "IBAN", "SALARY", "ENTRY_DATE"} <= set(header)
        leaked = {cell for row in rows for cell in row} & secrets
        assert not leaked, f"{name} contains {len(leaked)} special-category values"


def test_no_special_category_value_reaches_the_reporting_database(estate):
    folder, _ = estate
    secrets = _special_values(folder / "data" / "hr.db")
    assert any(v.startswith("inspector ") for v in secrets)  # the quality app's health notes are among them
    tables = table_rows(f"sqlite:///{folder / 'out' / 'reporting.db'}")
    assert set(tables) == {"customers", "employees", "products", "invoices", "inspections"}
    con = sqlite3.connect(folder / "out" / "reporting.db")
    columns = {r[1] for table in ("employees", "inspections") for r in con.execute(f"PRAGMA table_info({table})")}
    con.close()
    assert not columns & set(SPECIAL_COLUMNS)
    every_value = {v for rows in tables.values() for row in rows for v in row}
    assert not every_value & secrets


def test_redactions_are_counted_and_audited(estate):
    folder, state = estate
    payroll = state["results"]["payroll_employees_out"].metrics
    con = sqlite3.connect(folder / "data" / "hr.db")
    expected = sum(con.execute(q).fetchone()[0] for q in (
        "SELECT count(*) FROM employees WHERE occ_health_restriction IS NOT NULL",
        "SELECT count(*) FROM background_checks", "SELECT count(*) FROM litigation_holds"))
    con.close()
    assert payroll.fields_redacted == expected
    hub = sqlite3.connect(folder / ".officehub" / "hub.db")
    entries = hub.execute("SELECT subject, detail, prev_hash, hash FROM audit ORDER BY id").fetchall()
    hub.close()
    assert any("payroll/employees" in e[0] and "occupational_health_restrictions" in e[1] for e in entries)
    assert all(entries[i][2] == entries[i - 1][3] for i in range(1, len(entries)))


def test_rerunning_a_finished_estate_writes_nothing_new(estate):
    folder, _ = estate
    before_files = folder_files(folder / "out" / "payroll")
    before_db = table_rows(f"sqlite:///{folder / 'out' / 'reporting.db'}")
    again = sync_all(folder)
    assert {name: r.metrics.records_written for name, r in again.items()} == dict.fromkeys(again, 0)
    assert folder_files(folder / "out" / "payroll") == before_files
    assert table_rows(f"sqlite:///{folder / 'out' / 'reporting.db'}") == before_db


def test_a_changed_source_record_flows_through_to_the_destinations(estate):
    folder, _ = estate
    crm = sqlite3.connect(folder / "data" / "crm.db")
    custno = crm.execute("SELECT CUSTNO FROM CUST WHERE CTRY = 'UA' ORDER BY CUSTNO LIMIT 1").fetchone()[0]
    crm.execute("UPDATE CUST SET CITY = 'Chernihiv-Test', LASTCHG = '2026-11-27 10:00:00' WHERE CUSTNO = ?",
                (custno,))
    crm.commit()
    crm.close()
    results = sync_all(folder)
    assert results["crm_customers_in"].metrics.records_written == 1
    assert results["reporting_customers_out"].metrics.records_written == 1
    rep = sqlite3.connect(folder / "out" / "reporting.db")
    city, version = rep.execute("SELECT city, hub_version FROM customers WHERE customer_number = ?",
                                (str(custno),)).fetchone()
    rep.close()
    assert (city, version) == ("Chernihiv-Test", 2)


def test_reporting_gets_keyed_pseudonyms_that_still_join(estate):
    import re

    folder, state = estate
    rep = sqlite3.connect(folder / "out" / "reporting.db")
    numbers = [r[0] for r in rep.execute("SELECT employee_number FROM employees")]
    columns = {r[1] for r in rep.execute("PRAGMA table_info(employees)")}
    rep.close()
    hr = sqlite3.connect(folder / "data" / "hr.db")
    real = {r[0] for r in hr.execute("SELECT emp_id FROM employees")}
    hr.close()
    assert all(re.fullmatch(r"demo-2026:[0-9a-f]{32}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers) == state["results"]["hr_employees_in"].metrics.records_written
    assert not set(numbers) & real
    assert not {"first_name", "last_name"} & columns


def test_the_demo_policy_test_cases_pass(estate):
    from tests.helpers import run_cli

    folder, _ = estate
    ran = run_cli("-p", str(folder), "policy", "test", "--json")
    assert ran.returncode == 0, ran.stdout
    cases = json.loads(ran.stdout)
    assert len(cases) == 9 and all(case["passed"] for case in cases)
    assert any("never receives health" in case["case"] for case in cases)


def test_reporting_joins_inspections_to_employees_by_the_same_pseudonym(estate):
    # The inspector is sent as HR's employee number, and the policy hashes it with the key that
    # hashes employee numbers: reports join the two tables, and neither names anyone.
    folder, _ = estate
    with closing(sqlite3.connect(folder / "out" / "reporting.db")) as con:
        employees = {row[0] for row in con.execute("SELECT employee_number FROM employees")}
        inspectors = {row[0] for row in con.execute("SELECT inspector FROM inspections")}
    assert inspectors and inspectors <= employees
    assert all(p.startswith("demo-2026:") and not p.startswith("demo-2026:E") for p in inspectors)
