"""An estate of organisations, tax ids and cross-system references, configured from docs/model.md.

A Polish–Ukrainian wholesale distributor (not the demo): its ERP on MariaDB keeps companies,
sole traders and people in one counterparty table, with registration numbers of several
countries and EU VAT numbers; HR drops a CSV of staff with their patronymics, personal tax
numbers and occupational-health notes; the warehouse drops a CSV of deliveries naming the
ERP's client and the HR's driver. Payroll gets the tax ids under its agreement, reporting
never does, and no health note (each carries the sentinel ``SNTL``) leaves the hub.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.helpers import hub_links, run_cli

COUNTERPARTIES = [  # id, type, first, patronymic, last, company, form, country, registration, VAT
    (1, "F", None, None, None, "Hurtownia Farmaceutyczna Sp. z o.o.", "sp_zoo", "pl", "192598184", "PL 526-025-02-74"),
    (2, "F", None, None, None, "ТОВ «Фарм-Дистрибуція»", "tov", "UA", "3285 5961", None),
    (3, "F", None, None, None, "ТОВ «Аптека Лан»", "tov", "UA", "32855962", None),          # bad check digit
    (4, "P", "Оксана", "Петрівна", "Коваль", "ФОП Коваль О. П.", "fop", "UA", "3046214001", None),  # a sole trader
    (5, "F", None, None, None, "Nordwind GmbH", "gmbh", "DE", "HRB 12345", "DE136695976"),  # no DE format: as given
    (6, "F", None, None, None, "Bez Kraju SA", "sa", None, "123456785", None),             # no country: unchecked
    (7, "P", "Jan", None, "Kowalski", None, None, None, None, None),                      # a person
    (8, "P", None, None, None, None, None, None, None, None),                             # neither
    (9, "F", None, None, None, "Zła Firma", "sp_zoo", "PL", "192598184", "PL123"),          # bad VAT number
]
STAFF = [  # emp_no;surname;first;patronymic;country;tax_no;health;hired
    "E1;Шевченко;Тарас;Григорович;ua;3046214001;SNTL-MED-1 light duty after a back injury;2020-01-02",
    "E2;Бойко;Ірина;Олегівна;ua;3046214002;;2021-03-01",                       # bad РНОКПП check digit
    "E3;Nowak;Anna;;pl;44051401359;;2019-07-15",
    "E4;Schmidt;Jonas;;de;36574261809;SNTL-MED-2 no night shifts;2022-09-01",
    "E5;Müller;Lena;;de;12345678901;;2023-01-09",                              # bad Steuer-ID
]
DELIVERIES = ["D1;1;E1;2026-11-02", "D2;4;E3;2026-11-03",
              "D3;3;E4;2026-11-03",   # the client was quarantined: the delivery waits
              "D4;5;E2;2026-11-04"]   # the driver was quarantined: the delivery waits
CRM_ACCOUNTS = [("A-1", "Farm-Dystrybucija LLC", "UA", "32855961", None),   # ERP client 2, by registration
                ("A-2", "Nordwind", None, None, "DE 136 695 976"),           # ERP client 5, by VAT number
                ("A-3", "Nowa Apteka", "PL", "123456785", None)]             # new to the hub
GOOD_TAX_IDS = ("3046214001", "44051401359", "36574261809")

MODEL = {"entities": {"delivery": {"description": "A delivery from our warehouse to a client.", "fields": {
    "number": {"type": "string", "class": "internal", "required": True, "max_length": 20},
    "customer": {"type": "reference", "entity": "customer", "class": "internal", "required": True},
    "driver": {"type": "reference", "entity": "employee", "class": "internal"},
    "delivered_on": {"type": "date", "class": "internal"}}}}}


def _config(erp_url: str) -> dict[str, Any]:
    return {
        "hub": {"keys": {"k": {"file": "keys/k.key"}}, "active_key": "k"},
        "include": ["model/*.yaml"],
        "policies": ["policies/*.yaml"],
        "systems": {
            "erp": {"type": "sql", "url": erp_url},
            "hr": {"type": "files", "path": "drop/hr", "streams": {"staff": {"pattern": "staff_*.csv", "delimiter": ";"}}},
            "warehouse": {"type": "files", "path": "drop/warehouse", "streams": {"deliveries": {
                "pattern": "deliveries_*.csv", "delimiter": ";", "header": False,
                "columns": ["no", "client", "driver", "date"]}}},
            "payroll": {"type": "files", "path": "out/payroll", "create": True, "streams": {"employees": {
                "pattern": "EMPLOYEES_*.csv", "delimiter": ";", "write_name": "EMPLOYEES_{batch_id}.csv"}}},
            "reporting": {"type": "sql", "url": "sqlite:///out/reporting.db"},
            "crm": {"type": "sql", "url": "sqlite:///drop/crm.db"},
        },
        # From docs/identity.md: an organisation is the same wherever its registration is.
        "identity": {"customer": {"match": {"keys": [
            {"name": "registration", "columns": ["organisation__registration_country",
                                                 "organisation__registration_number"], "normalise": "id"},
            {"name": "vat", "columns": ["organisation__vat_number"], "normalise": "id"}]},
            # A group survives as a whole: the ERP's registration data, which the CRM only partly keeps.
            "survivorship": {"fields": {"organisation": {"rule": "trust", "order": ["erp", "crm"]}}}}},
        "mappings": {
            "erp_counterparties": {"system": "erp", "stream": "kontrahenci", "target": "customer", "key": "id",
                                   "fields": {
                "customer_number": "id",
                "kind": {"from": "typ", "transforms": [{"lookup": {"values": {"P": "person", "F": "organisation"}}}]},
                "name.first": "imie", "name.middle": "drugie_imie", "name.last": "nazwisko",
                "organisation.legal_name": "firma",
                "organisation.legal_form": {"from": "forma", "transforms": ["upper"]},
                "organisation.registration_country": {"from": "kraj", "transforms": ["upper"]},
                "organisation.registration_number": "regon",
                "organisation.vat_number": "vat"}},
            "crm_accounts": {"system": "crm", "stream": "accounts", "target": "customer", "key": "id", "fields": {
                "kind": {"from": "company", "transforms": [{"constant": "organisation"}]},
                "organisation.legal_name": "company", "organisation.registration_country": "country",
                "organisation.registration_number": "code", "organisation.vat_number": "vat"}},
            "hr_staff": {"system": "hr", "stream": "staff", "target": "employee", "key": "emp_no", "fields": {
                "employee_number": "emp_no", "name.last": "surname", "name.first": "first",
                "name.middle": "patronymic",
                "tax_id.country": {"from": "country", "transforms": ["upper"]}, "tax_id.number": "tax_no",
                "occupational_health_restrictions": "health",
                "employment.hire_date": {"from": "hired", "transforms": [{"date": "%Y-%m-%d"}]}}},
            "warehouse_deliveries": {"system": "warehouse", "stream": "deliveries", "target": "delivery", "key": "no",
                                     "fields": {"number": "no", "customer": {"from": "client", "ids_from": "erp"},
                                                "driver": {"from": "driver", "ids_from": "hr"},
                                                "delivered_on": {"from": "date", "transforms": [{"date": "%Y-%m-%d"}]}}},
            "payroll_employees": {"system": "payroll", "stream": "employees", "target": "employee", "key": "emp_no",
                                  "fields": {"employee_number": "emp_no", "name.last": "surname",
                                             "name.first": "first", "name.middle": "patronymic",
                                             "tax_id.country": "tax_country", "tax_id.number": "tax_no",
                                             "occupational_health_restrictions": "health"}},
            "reporting_customers": {"system": "reporting", "stream": "customers", "target": "customer",
                                    "key": "hub_id", "fields": {
                "canonical_id": "hub_id", "kind": "kind", "organisation.legal_form": "legal_form",
                "organisation.registration_country": "country", "organisation.registration_number": "reg_no",
                "name.last": "last_name"}},
            "reporting_employees": {"system": "reporting", "stream": "employees", "target": "employee",
                                    "key": "hub_id", "fields": {
                "canonical_id": "hub_id", "employee_number": "emp", "tax_id.number": "tax_no",
                "occupational_health_restrictions": "health"}},
            "reporting_deliveries": {"system": "reporting", "stream": "deliveries", "target": "delivery",
                                     "key": "hub_id", "fields": {"canonical_id": "hub_id", "customer": "customer",
                                                                 "driver": "driver", "delivered_on": "day"}},
        },
        "pipelines": {
            "counterparties_in": {"kind": "ingest", "mapping": "erp_counterparties"},
            "accounts_in": {"kind": "ingest", "mapping": "crm_accounts"},
            "staff_in": {"kind": "ingest", "mapping": "hr_staff"},
            "deliveries_in": {"kind": "ingest", "mapping": "warehouse_deliveries"},
            "payroll_out": {"kind": "publish", "mapping": "payroll_employees", "purpose": "payroll processing"},
            "reporting_customers_out": {"kind": "publish", "mapping": "reporting_customers"},
            "reporting_employees_out": {"kind": "publish", "mapping": "reporting_employees"},
            "reporting_deliveries_out": {"kind": "publish", "mapping": "reporting_deliveries"},
        },
    }


def _agreement(destination: str, purpose: str) -> dict[str, Any]:
    return {"id": f"{destination}-2026", "destination": destination, "purpose": purpose,
            "legal_basis": "GDPR Art. 6(1)(b)", "valid_from": "2026-01-01", "valid_until": "2030-12-31"}


POLICIES = {
    "payroll": {"name": "payroll", "uses": ["gdpr-special-categories"],
                "agreements": [_agreement("payroll", "payroll processing")],
                "rules": [{"id": "tax-ids-for-payroll", "select": {"field": "employee.tax_id.*"}, "action": "allow"}]},
    "reporting": {"name": "reporting", "uses": ["gdpr-special-categories"],
                  "agreements": [_agreement("reporting", "management reporting")],
                  "rules": [{"id": "no-personal-data", "select": {"class": "personal"}, "action": "drop"},
                            {"id": "no-financial-data", "select": {"class": "financial"}, "action": "drop"},
                            {"id": "pseudonymous-staff", "select": {"field": "employee.employee_number"},
                             "action": "hash"}]},
}


def _estate(folder: Path, erp_url: str) -> Path:
    for sub in ("model", "policies", "keys", "drop/hr", "drop/warehouse", "out"):
        (folder / sub).mkdir(parents=True)
    (folder / "keys" / "k.key").write_text("Qla49kiSWRK02B08eiYZ2lGcwkbRIqA8Rwtz9OqsLLA\n")
    engine = sa.create_engine(erp_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "CREATE TABLE kontrahenci (id INT PRIMARY KEY, typ CHAR(1), imie VARCHAR(50), drugie_imie VARCHAR(50), "
                "nazwisko VARCHAR(50), firma VARCHAR(200), forma VARCHAR(10), kraj CHAR(2), regon VARCHAR(20), "
                "vat VARCHAR(30))"))
            conn.execute(sa.text("INSERT INTO kontrahenci VALUES (:0, :1, :2, :3, :4, :5, :6, :7, :8, :9)"),
                         [{str(i): v for i, v in enumerate(row)} for row in COUNTERPARTIES])
    finally:
        engine.dispose()
    (folder / "drop/hr/staff_2026-11.csv").write_text(
        "emp_no;surname;first;patronymic;country;tax_no;health;hired\n" + "\n".join(STAFF) + "\n", encoding="utf-8")
    with sqlite3.connect(folder / "drop" / "crm.db") as con:  # the sales CRM spells the same companies its own way
        con.execute("CREATE TABLE accounts (id TEXT PRIMARY KEY, company TEXT, country TEXT, code TEXT, vat TEXT)")
        con.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)", CRM_ACCOUNTS)
    (folder / "drop/warehouse/deliveries_2026-11.csv").write_text("\n".join(DELIVERIES) + "\n", encoding="utf-8")
    (folder / "model" / "warehouse.yaml").write_text(yaml.safe_dump(MODEL, sort_keys=False))
    for name, policy in POLICIES.items():
        (folder / "policies" / f"{name}.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    (folder / "officehub.yaml").write_text(yaml.safe_dump(_config(erp_url), allow_unicode=True, sort_keys=False))
    return folder


def _cli(folder: Path, *args: str) -> Any:
    done = run_cli("-p", str(folder), *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, mariadb_url_module: str) -> tuple[Path, dict[str, Any]]:
    folder = _estate(tmp_path_factory.mktemp("wholesale"), mariadb_url_module)
    checked = run_cli("-p", str(folder), "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    done = run_cli("-p", str(folder), "sync", "--all", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, {r["pipeline"]: r for r in json.loads(done.stdout)}


def _hub(folder: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(folder / ".officehub" / "hub.db") as con:
        return con.execute(sql).fetchall()


def _links(folder: Path, entity: str | None = None) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(folder / ".officehub" / "hub.db") as con:
        return hub_links(con, entity)


def test_bad_registration_numbers_vat_numbers_and_tax_ids_are_quarantined_with_the_validators_reason(estate):
    folder, results = estate
    assert results["counterparties_in"]["records_written"] == 5
    assert results["staff_in"]["records_written"] == 3
    by_pipeline: dict[str, list[str]] = {}
    for item in _cli(folder, "quarantine", "list")["items"]:
        by_pipeline.setdefault(item["pipeline"], []).append(item["reason"])
    assert sorted(by_pipeline["counterparties_in"]) == sorted([
        "organisation.registration_number: not a valid ua.edrpou: The number's checksum or check digit is invalid; "
        "not a valid ua.rntrc: The number has an invalid length",
        "organisation.registration_number: cannot be checked without organisation.registration_country",
        "needs name or organisation",
        "organisation.vat_number: Value error, not a valid vatin: The number has an invalid length"])
    assert sorted(by_pipeline["staff_in"]) == [
        "tax_id.number: not a valid de.idnr: The number has an invalid format",
        "tax_id.number: not a valid ua.rntrc: The number's checksum or check digit is invalid"]
    assert sorted(by_pipeline["deliveries_in"]) == [
        "customer: no customer from erp with this id in the hub yet (replay the quarantine once it has arrived)",
        "driver: no employee from hr with this id in the hub yet (replay the quarantine once it has arrived)"]


def test_organisations_sole_traders_and_people_are_stored_as_their_registries_know_them(estate):
    folder, _ = estate
    rows = {r[0]: r[1:] for r in _hub(folder, (
        "SELECT customer_number, kind, name__middle, organisation__legal_form, organisation__registration_country, "
        "organisation__registration_number, organisation__vat_number FROM customer WHERE customer_number IS NOT NULL"))}
    assert rows == {
        "1": ("organisation", None, "SP_ZOO", "PL", "192598184", "PL5260250274"),  # VAT in its compact form
        "2": ("organisation", None, "TOV", "UA", "32855961", None),                 # spaces removed
        "4": ("person", "Петрівна", "FOP", "UA", "3046214001", None),               # a ФОП's tax number
        "5": ("organisation", None, "GMBH", "DE", "HRB 12345", "DE136695976"),  # no DE format: as given
        "7": ("person", None, None, None, None, None)}
    staff = dict(_hub(folder, "SELECT employee_number, name__middle FROM employee"))
    assert staff == {"E1": "Григорович", "E3": None, "E4": None}


def test_the_crms_companies_are_linked_to_the_erps_by_registration_or_vat_number(estate):
    folder, results = estate
    assert results["accounts_in"]["records_written"] == 3
    ids = {(system, vendor): canonical for system, _, vendor, canonical in _links(folder, "customer")}
    assert ids["crm", "A-1"] == ids["erp", "2"]
    assert ids["crm", "A-2"] == ids["erp", "5"]
    assert ids["crm", "A-3"] not in {canonical for (system, _), canonical in ids.items() if system == "erp"}


def test_deliveries_attach_to_the_erps_client_and_the_hrs_driver(estate):
    folder, results = estate
    assert results["deliveries_in"]["records_written"] == 2
    ids = {(system, vendor): canonical for system, _, vendor, canonical in _links(folder)}
    stored = {number: (customer, driver) for number, customer, driver in
              _hub(folder, "SELECT number, customer, driver FROM delivery")}
    assert stored == {"D1": (ids["erp", "1"], ids["hr", "E1"]), "D2": (ids["erp", "4"], ids["hr", "E3"])}
    with sqlite3.connect(folder / "out" / "reporting.db") as con:
        sent = set(con.execute("SELECT customer, driver FROM deliveries"))
    assert sent == set(stored.values())


def test_payroll_gets_the_tax_ids_and_reporting_never_does(estate):
    folder, _ = estate
    payroll = "".join(p.read_text(encoding="utf-8") for p in (folder / "out" / "payroll").glob("*.csv"))
    assert all(tax_id in payroll for tax_id in GOOD_TAX_IDS)
    assert "Григорович" in payroll
    reporting = (folder / "out" / "reporting.db").read_bytes()
    for tax_id in GOOD_TAX_IDS:
        assert tax_id.encode() not in reporting
    with sqlite3.connect(folder / "out" / "reporting.db") as con:
        assert {row[0] for row in con.execute("SELECT kind FROM customers")} == {"person", "organisation"}
        # The policy drops financial fields: the column is not even made.
        assert {row[1] for row in con.execute("PRAGMA table_info(employees)")} == {"hub_id", "emp"}


def test_no_health_note_leaves_the_hub_or_reaches_a_report(estate):
    folder, _ = estate
    outputs = [p.read_bytes() for p in (folder / "out").rglob("*") if p.is_file()]
    outputs += [run_cli("-p", str(folder), *command).stdout.encode() for command in (
        ["quarantine", "list", "--json"], ["runs", "--json"], ["audit", "list", "--json"], ["model", "diff"])]
    outputs.append(json.dumps(_hub(folder, "SELECT * FROM audit"), default=str).encode())
    assert not [o for o in outputs if b"SNTL" in o]
    # The hub itself holds them, for HR: the sentinel is really there to be found.
    assert len(_hub(folder, "SELECT 1 FROM employee WHERE occupational_health_restrictions LIKE 'SNTL%'")) == 2


def test_a_person_is_found_by_tax_number_patronymic_or_the_name_of_their_sole_trade(estate):
    folder, _ = estate
    # The ФОП Коваль is registered under her personal tax number, which E1's payroll record also holds.
    by_tax_number = {(h["entity"], h["name"]) for h in _cli(folder, "subject", "find", "3046 214001")}
    assert by_tax_number == {("customer", "Оксана Коваль"), ("employee", "Тарас Шевченко")}
    assert [h["name"] for h in _cli(folder, "subject", "find", "Оксана Петрівна")] == ["Оксана Коваль"]
    assert {h["name"] for h in _cli(folder, "subject", "find", "Нордвінд") + _cli(folder, "subject", "find", "nordwind")} \
        == {"Nordwind GmbH"}
