"""A small estate for identity tests: a CRM and an accounting package that both hold
customers (subscribed both ways), an HR system, and a reporting database.

Both vendor systems bump their own change timestamp on every insert or update (by
trigger), as legacy apps do, so whatever the hub writes into them is read back by
the next incremental ingest — the situation echo suppression exists for.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

CRM_DDL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, street TEXT,
                        zip TEXT, city TEXT, dob TEXT, notes TEXT, changed TEXT);
CREATE TRIGGER crm_ins AFTER INSERT ON customers BEGIN
  UPDATE customers SET changed = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id; END;
CREATE TRIGGER crm_upd AFTER UPDATE OF first_name, last_name, email, street, zip, city, dob, notes ON customers BEGIN
  UPDATE customers SET changed = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id; END;
"""
ACCT_DDL = """
CREATE TABLE debtors (acct_no TEXT PRIMARY KEY, name TEXT, mail TEXT, street TEXT, zip TEXT, town TEXT,
                      dob TEXT, status TEXT DEFAULT 'A', changed TEXT);
CREATE TRIGGER acct_ins AFTER INSERT ON debtors BEGIN
  UPDATE debtors SET changed = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE acct_no = NEW.acct_no; END;
CREATE TRIGGER acct_upd AFTER UPDATE OF name, mail, street, zip, town, dob, status ON debtors BEGIN
  UPDATE debtors SET changed = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE acct_no = NEW.acct_no; END;
"""
HR_DDL = """
CREATE TABLE staff (emp_id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, hired TEXT,
                    hold_matter TEXT, hold_since TEXT, changed TEXT);
"""

CRM = [  # id, first, last, email, street, zip, city, dob, notes
    (1, "John", "Smith", "john.smith@example.com", "10 High Street", "01001", "Kyiv", "1980-04-02", "prefers mail"),
    (2, "Olena", "Kovalenko", None, "5 Shevchenka St", "02002", "Kyiv", "1975-11-30", None),
    (3, "Petro", "Bondar", None, "7 Lesi Ukrainky", "03003", "Lviv", "1990-01-15", None),
    (4, "Iryna", "Melnyk", "iryna.melnyk@example.com", "1 Franka St", "04004", "Odesa", "1985-06-20", None),
    (5, "Taras", "Shevchuk", "taras@example.com", "9 Sadova St", "05005", "Dnipro", "1970-03-09", None),
]
ACCT = [  # acct_no, "Last, First", mail, street, zip, town, dob
    ("D-1", "Smyth, Jon", "John.Smith@example.com", "10 High St", "01001", "Kyiv", "1980-04-02"),   # email key
    ("D-2", "Kowalenko, Olena", None, "5 Shevchenka St", "02002", "Kyiv", "1975-11-30"),          # fuzzy link
    ("D-3", "Bondar, Petro", None, "7 Lesi Ukrainky", "03003", "Lviv", "1990-01-15"),             # same person
    ("D-4", "Bondarenko, Petro", None, "12 Zelena St", "03100", "Lviv", "1990-01-15"),            # near: review
    ("D-9", "Hnatyuk, Marta", "marta@example.com", "3 Lysenka St", "06006", "Kharkiv", "1995-12-12"),  # only here
]
HR = [("E-1", "Taras", "Shevchuk", "taras@example.com", "2015-02-01", "LIT-2026-7", "2026-01-10")]

IDENTITY = {
    "customer": {
        "match": {
            "keys": [{"name": "email", "columns": ["contact__email"], "normalise": "email"}],
            "fuzzy": {
                "blocks": [["birth_date"]],
                "fields": {
                    "name": {"columns": ["name__first", "name__last"], "weight": 0.5, "method": "name"},
                    "address": {"columns": ["address__street", "address__postal_code"], "weight": 0.3,
                                "method": "text"},
                    "birth_date": {"columns": ["birth_date"], "weight": 0.2, "method": "date"},
                },
                "link_at": 0.9, "review_at": 0.6,
            },
        },
        "survivorship": {"default": {"rule": "most_recent"}, "fields": {"notes": {"rule": "source", "system": "crm"}}},
    },
}

_CRM_FIELDS = {"name.first": "first_name", "name.last": "last_name", "contact.email": "email",
               "address.street": "street", "address.postal_code": "zip", "address.city": "city",
               "birth_date": "dob"}
_ACCT_FIELDS = {"name.first": {"from": "name", "transforms": [{"split": {"separator": ", ", "part": 1}}]},
                "name.last": {"from": "name", "transforms": [{"split": {"separator": ", ", "part": 0}}]},
                "contact.email": {"from": "mail", "transforms": ["lower"]},
                "address.street": "street", "address.postal_code": "zip", "address.city": "town",
                "birth_date": "dob"}


def _policy(destination: str, purpose: str) -> dict:
    return {"name": f"{destination}-sharing", "uses": ["gdpr-special-categories"],
            "agreements": [{"id": f"{destination}-2026", "destination": destination, "purpose": purpose,
                            "legal_basis": "GDPR Art. 6(1)(b) contract", "valid_from": "2026-01-01",
                            "valid_until": "2030-12-31"}],
            "rules": [{"id": "no-notes", "select": {"field": "customer.notes"}, "action": "drop"}]
            if destination != "crm" else []}


def build(folder: Path, store_url: str | None = None, *, grace_days: int = 30, crm_deletes: str = "reported") -> Path:
    """Write the estate's databases and officehub.yaml into ``folder``; returns it."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data / "crm.db") as db:
        db.executescript(CRM_DDL)
        db.executemany("INSERT INTO customers (id, first_name, last_name, email, street, zip, city, dob, notes) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", CRM)
    with sqlite3.connect(data / "acct.db") as db:
        db.executescript(ACCT_DDL)
        db.executemany("INSERT INTO debtors (acct_no, name, mail, street, zip, town, dob) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       ACCT)
    with sqlite3.connect(data / "hr.db") as db:
        db.executescript(HR_DDL)
        db.executemany("INSERT INTO staff VALUES (?, ?, ?, ?, ?, ?, ?, '2026-01-10 00:00:00')", HR)
    config = {
        "hub": {"name": "idtest", "store": store_url or "sqlite:///.officehub/hub.db", "batch_size": 3,
                "delete_grace_days": grace_days},
        "identity": IDENTITY,
        "systems": {
            "crm": {"type": "sql", "url": "sqlite:///data/crm.db", "country": "UA"},
            "acct": {"type": "sql", "url": "sqlite:///data/acct.db", "country": "UA"},
            "hr": {"type": "sql", "url": "sqlite:///data/hr.db", "country": "UA"},
            "reporting": {"type": "sql", "url": "sqlite:///out/reporting.db", "country": "UA"},
        },
        "mappings": {
            "crm_in": {"system": "crm", "stream": "customers", "target": "customer", "key": "id",
                       "cursor": "changed", "fields": {**_CRM_FIELDS, "notes": "notes"}},
            "crm_out": {"system": "crm", "stream": "customers", "target": "customer", "key": "id",
                        "fields": {"vendor_id": "id", **_CRM_FIELDS}},
            "acct_in": {"system": "acct", "stream": "debtors", "target": "customer", "key": "acct_no",
                        "cursor": "changed", "deleted_when": {"column": "status", "in": ["X"]},
                        "fields": _ACCT_FIELDS},
            "acct_out": {"system": "acct", "stream": "debtors", "target": "customer", "key": "acct_no",
                         "fields": {"vendor_id": "acct_no", **_ACCT_FIELDS}},
            "hr_in": {"system": "hr", "stream": "staff", "target": "employee", "key": "emp_id", "cursor": "changed",
                      "fields": {"employee_number": "emp_id", "name.first": "first_name", "name.last": "last_name",
                                 "contact.email": "email", "employment.hire_date": "hired",
                                 "litigation_hold.matter_ref": "hold_matter", "litigation_hold.since": "hold_since"}},
            "reporting_out": {"system": "reporting", "stream": "customers", "target": "customer", "key": "hub_id",
                              "fields": {"canonical_id": "hub_id", "name.first": "first_name",
                                         "name.last": "last_name", "address.street": "street",
                                         "address.city": "city"}},
        },
        "pipelines": {
            "crm_in": {"kind": "ingest", "mapping": "crm_in", "deletes": crm_deletes},
            "acct_in": {"kind": "ingest", "mapping": "acct_in"},
            "hr_in": {"kind": "ingest", "mapping": "hr_in"},
            # The CRM numbers its own customers: the hub only updates the ones it holds.
            "crm_out": {"kind": "publish", "mapping": "crm_out", "purpose": "customer service",
                        "create_missing": False},
            "acct_out": {"kind": "publish", "mapping": "acct_out", "purpose": "invoicing"},
            "reporting_out": {"kind": "publish", "mapping": "reporting_out", "purpose": "management reporting"},
        },
        "policies": ["policies/*.yaml"],
    }
    (folder / "policies").mkdir(exist_ok=True)
    for destination, purpose in (("crm", "customer service"), ("acct", "invoicing"),
                                 ("reporting", "management reporting")):
        (folder / "policies" / f"{destination}.yaml").write_text(yaml.safe_dump(_policy(destination, purpose)))
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder
