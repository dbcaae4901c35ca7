"""An estate whose every medical, criminal and legal value carries a sentinel, for leak scans.

Text values read ``SNTL-MED-…``, ``SNTL-CRIM-…`` or ``SNTL-LEGAL-…``; values that cannot be
text (dates, amounts, a diagnosis code) use dates and an amount found nowhere else. An HR
system supplies employees with their health restrictions, background checks, litigation
holds, sick leave and garnishments; an occupational-health clinic supplies some of the same
people again, so one pair waits in the identity review queue. Some rows are dirty so that
they quarantine, each because of its special-category value. Two destinations (a payroll
file drop and a reporting database) receive employees under policies that withhold every
special category.

Anything found in an output that contains one of :data:`SENTINELS` is a leak.
"""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import yaml

#: Substrings that never occur in an output unless a special-category value leaked.
SENTINELS = ("SNTL", "1913-01-13", "13.01.1913", "1914-02-14", "14.02.1914", "1915-03-15", "15.03.1915", "4242.42")
#: A tokenised financial value that `policy detokenize` may print (it is not special-category data).
IBAN = "UA213223130000026007233566001"

HR_DDL = """
CREATE TABLE employees (emp_id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, birth_date TEXT, email TEXT,
                        hire_date TEXT, department TEXT, salary TEXT, iban TEXT, health TEXT, updated_at TEXT);
CREATE TABLE background_checks (emp_id TEXT PRIMARY KEY, outcome TEXT, checked_on TEXT);
CREATE TABLE litigation_holds (emp_id TEXT PRIMARY KEY, matter_ref TEXT, since TEXT, active INTEGER);
CREATE TABLE sick_leave (id INTEGER PRIMARY KEY, emp_id TEXT, start_date TEXT, end_date TEXT, diagnosis_code TEXT,
                         certified INTEGER);
CREATE TABLE garnishments (id INTEGER PRIMARY KEY, emp_id TEXT, court_order_ref TEXT, amount TEXT, currency TEXT,
                           since TEXT);
"""
CLINIC_DDL = """
CREATE TABLE patients (id TEXT PRIMARY KEY, staff_no TEXT, first_name TEXT, last_name TEXT, birth_date TEXT,
                       restriction TEXT, changed TEXT);
"""

EMPLOYEES = [  # emp_id, first, last, birth date, email, hired, department, salary, iban, health
    ("E-1", "Taras", "Shevchuk", "1970-03-09", "taras@example.com", "2015-02-01", "Sales", "41250.00", IBAN,
     "SNTL-MED-OCC-1 no lifting"),
    ("E-2", "Olha", "Bondarenko", "1988-07-21", "olha@example.com", "2019-04-15", "Finance", "38000.00", None,
     "SNTL-MED-OCC-2 no night shifts"),
    ("E-3", "Petro", "Melnyk", "1979-12-01", "petro@example.com", "2012-09-03", "Logistics", "36000.00", None, None),
    # Dirty: a health note over the model's 500 characters quarantines the whole row.
    ("E-4", "Iryna", "Koval", "1992-05-05", "iryna@example.com", "2021-01-11", "Sales", "30000.00", None,
     "SNTL-MED-TOO-LONG " + "x" * 520),
]
BACKGROUND = [("E-1", "record_found", "1913-01-13"), ("E-2", "clear", "1913-01-13"),
              ("E-3", "SNTL-CRIM-OUTCOME", "1913-01-13")]  # dirty: not one of the outcomes
HOLDS = [("E-1", "SNTL-LEGAL-HOLD-1", "1914-02-14", 1),
         ("E-2", "SNTL-LEGAL-HOLD-" + "9" * 40, "1914-02-14", 1)]  # dirty: longer than 40 characters
SICK_LEAVE = [(1, "E-2", "1915-03-15", "1915-03-20", "Q77.SNTL", 1),
              (2, "E-2", "1915-03-15", "1915-03-16", "SNTL-MED-DIAG", 0)]  # dirty: not a diagnosis code
GARNISHMENTS = [(1, "E-1", "SNTL-LEGAL-GARN-1", "4242.42", "UAH", "1914-02-14"),
                (2, "E-2", "SNTL-LEGAL-GARN-2", "SNTL-LEGAL-AMOUNT", "UAH", "1914-02-14")]  # dirty: no number
# The clinic knows Olha under another spelling and without an e-mail: a pair for review.
PATIENTS = [("P-7", "E-2", "Olga", "Bondarenko", "1988-07-21", "SNTL-MED-CLINIC-7 no screen work")]

IDENTITY = {"employee": {
    "match": {"keys": [{"name": "email", "columns": ["contact__email"], "normalise": "email"}],
              "fuzzy": {"blocks": [["birth_date"]],
                        "fields": {"name": {"columns": ["name__first", "name__last"], "weight": 0.6,
                                            "method": "name"},
                                   "birth_date": {"columns": ["birth_date"], "weight": 0.4, "method": "date"}},
                        "link_at": 0.99, "review_at": 0.6}},
    "survivorship": {"default": {"rule": "most_recent"}}}}

MAPPINGS = {
    "hr_employees": {"system": "hr", "stream": "employees", "target": "employee", "key": "emp_id",
                     "cursor": "updated_at",
                     "fields": {"employee_number": "emp_id", "name.first": "first_name", "name.last": "last_name",
                                "birth_date": "birth_date", "contact.email": "email",
                                "employment.hire_date": "hire_date", "employment.department": "department",
                                "salary.amount": "salary", "salary.currency": {"from": "salary",
                                                                               "transforms": [{"constant": {"value": "UAH"}}]},
                                "bank_account_iban": "iban", "occupational_health_restrictions": "health"}},
    "hr_background_checks": {"system": "hr", "stream": "background_checks", "target": "employee", "key": "emp_id",
                             "extends": True, "fields": {"background_check.outcome": "outcome",
                                                         "background_check.checked_on": "checked_on"}},
    "hr_litigation_holds": {"system": "hr", "stream": "litigation_holds", "target": "employee", "key": "emp_id",
                            "extends": True, "fields": {"litigation_hold.matter_ref": "matter_ref",
                                                        "litigation_hold.since": "since",
                                                        "litigation_hold.active": "active"}},
    "hr_sick_leave": {"system": "hr", "stream": "sick_leave", "target": "employee.sick_leave", "key": "id",
                      "parent_key": "emp_id",
                      "fields": {"period.start": "start_date", "period.end": "end_date",
                                 "diagnosis_code": "diagnosis_code", "certified": "certified"}},
    "hr_garnishments": {"system": "hr", "stream": "garnishments", "target": "employee.garnishments", "key": "id",
                        "parent_key": "emp_id",
                        "fields": {"court_order_ref": "court_order_ref", "amount.amount": "amount",
                                   "amount.currency": "currency", "since": "since"}},
    "clinic_patients": {"system": "clinic", "stream": "patients", "target": "employee", "key": "id",
                        "cursor": "changed",
                        "fields": {"employee_number": "staff_no", "name.first": "first_name",
                                   "name.last": "last_name", "birth_date": "birth_date",
                                   "occupational_health_restrictions": "restriction"}},
    # The payroll template has columns for special categories; the policy keeps them empty.
    "payroll_employees": {"system": "payroll", "stream": "employees", "target": "employee", "key": "PERSNR",
                          "fields": {"employee_number": "PERSNR", "name.first": "FIRST", "name.last": "LAST",
                                     "salary.amount": "SALARY", "bank_account_iban": "IBAN",
                                     "occupational_health_restrictions": "HEALTH",
                                     "background_check.outcome": "BG_CHECK",
                                     "litigation_hold.matter_ref": "LEGAL_HOLD"}},
    "reporting_employees": {"system": "reporting", "stream": "employees", "target": "employee", "key": "hub_id",
                            "fields": {"canonical_id": "hub_id", "employee_number": "employee_number",
                                       "employment.department": "department",
                                       "occupational_health_restrictions": "health_restrictions",
                                       "background_check.outcome": "background_check"}},
}

PIPELINES = {
    "hr_employees_in": {"kind": "ingest", "mapping": "hr_employees"},
    "hr_background_in": {"kind": "ingest", "mapping": "hr_background_checks"},
    "hr_litigation_in": {"kind": "ingest", "mapping": "hr_litigation_holds"},
    "hr_sick_leave_in": {"kind": "ingest", "mapping": "hr_sick_leave"},
    "hr_garnishments_in": {"kind": "ingest", "mapping": "hr_garnishments"},
    "clinic_in": {"kind": "ingest", "mapping": "clinic_patients"},
    "payroll_out": {"kind": "publish", "mapping": "payroll_employees", "write_mode": "append",
                    "purpose": "payroll processing"},
    "reporting_out": {"kind": "publish", "mapping": "reporting_employees", "purpose": "management reporting"},
}


def _policy(destination: str, purpose: str, rules: list[dict]) -> dict:
    return {"name": f"{destination}-sharing", "uses": ["gdpr-special-categories"],
            "agreements": [{"id": f"{destination}-2026", "destination": destination, "purpose": purpose,
                            "legal_basis": "GDPR Art. 6(1)(b) employment contract", "valid_from": "2026-01-01",
                            "valid_until": "2030-12-31"}],
            "rules": rules}


POLICIES = {
    "payroll": _policy("payroll", "payroll processing", [
        {"id": "iban-tokenised", "select": {"field": "employee.bank_account_iban"}, "action": "tokenize"}]),
    "reporting": _policy("reporting", "management reporting", [
        {"id": "pseudonymous-numbers", "select": {"field": "employee.employee_number"}, "action": "hash"},
        {"id": "no-personal", "select": {"entity": "employee", "class": "personal"}, "action": "drop"},
        {"id": "no-financial", "select": {"entity": "employee", "class": "financial"}, "action": "drop"}]),
}

# Policy tests whose records carry sentinels: `policy test` must report on them without quoting them
# (an expected value is the test file's own text, which a failure may quote).
POLICY_TESTS = {"today": "2026-06-01", "cases": [
    {"name": "payroll never receives special categories", "destination": "payroll", "entity": "employee",
     "record": {"employee_number": "E-9", "name": {"first": "Test", "last": "Person"},
                "occupational_health_restrictions": "SNTL-MED-TEST",
                "background_check": {"outcome": "record_found", "checked_on": "1913-01-13"},
                "litigation_hold": {"matter_ref": "SNTL-LEGAL-TEST", "since": "1914-02-14"}},
     "expect": {"absent": ["occupational_health_restrictions", "background_check.outcome",
                           "litigation_hold.matter_ref"]}},
    {"name": "a wrong expectation fails without quoting the record", "destination": "payroll", "entity": "employee",
     "record": {"employee_number": "E-9", "name": {"first": "Test", "last": "Person"},
                "occupational_health_restrictions": "SNTL-MED-TEST"},
     "expect": {"present": ["occupational_health_restrictions"],
                "equals": {"occupational_health_restrictions": "an expectation of the test file"}}},
]}


def _write_db(path: Path, ddl: str, inserts: dict[str, list[tuple]]) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(ddl)
        for table, rows in inserts.items():
            db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)


def build(folder: Path) -> Path:
    """Write the estate's source databases, key, policies and officehub.yaml into ``folder``; returns it."""
    data = folder / "data"
    data.mkdir(parents=True)
    stamp = "2026-01-10 00:00:00"
    _write_db(data / "hr.db", HR_DDL, {"employees": [(*row, stamp) for row in EMPLOYEES],
                                       "background_checks": BACKGROUND, "litigation_holds": HOLDS,
                                       "sick_leave": SICK_LEAVE, "garnishments": GARNISHMENTS})
    _write_db(data / "clinic.db", CLINIC_DDL, {"patients": [(*row, stamp) for row in PATIENTS]})
    (folder / "keys").mkdir()
    (folder / "keys" / "sentinel.key").write_text(base64.b64encode(b"sentinel-estate-key-0123456789ab").decode())
    (folder / "policies").mkdir()
    for name, document in POLICIES.items():
        (folder / "policies" / f"{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    (folder / "policy-tests").mkdir()
    (folder / "policy-tests" / "sentinel.yaml").write_text(yaml.safe_dump(POLICY_TESTS, sort_keys=False))
    config = {
        "hub": {"name": "sentinel", "store": "sqlite:///.officehub/hub.db", "batch_size": 2,
                "keys": {"sentinel": {"file": "keys/sentinel.key"}}, "active_key": "sentinel"},
        "identity": IDENTITY,
        "systems": {
            "hr": {"type": "sql", "url": "sqlite:///data/hr.db", "country": "UA"},
            "clinic": {"type": "sql", "url": "sqlite:///data/clinic.db", "country": "UA"},
            "payroll": {"type": "files", "path": "out/payroll", "create": True, "country": "UA",
                        "streams": {"employees": {"pattern": "EMPLOYEES_*.csv", "format": "csv", "delimiter": ";",
                                                  "write_name": "EMPLOYEES_{batch_id}.csv"}}},
            "reporting": {"type": "sql", "url": "sqlite:///out/reporting.db", "country": "UA"},
        },
        "mappings": MAPPINGS,
        "pipelines": PIPELINES,
        "policies": ["policies/*.yaml"],
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder
