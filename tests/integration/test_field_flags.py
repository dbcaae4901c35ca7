"""A value that does not convert need not cost the whole record: per-field ``on_error``.

A shop's CRM holds phone numbers the numbering plan does not know and birth dates typed
in any order. With ``on_error: flag`` the customer is stored without the phone and the
text is kept in a data-quality flag (shown by ``record show``, counted in the run, cleared
when the source fixes it); with ``on_error: null`` the field is stored empty and counted;
the default still quarantines the record. A flagged customer is matched on its other fields.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import yaml

from tests.helpers import run_cli

ROWS = [  # id, last name, email, phone, birth date
    (1, "Petrenko", "petrenko@example.com", "12-34", "1980-01-02"),      # phone unknown to the plan
    (2, "Koval", "koval@example.com", "+380 44 123 4567", "02/01/1980"),  # date in another layout
    (3, "Shevchenko", "shev@example.com", "+380 44 765 4321", "1975-05-06"),
]


def _estate(folder: Path, phone_on_error: str = "flag") -> Path:
    (folder / "data").mkdir(parents=True)
    con = sqlite3.connect(folder / "data" / "crm.db")
    con.execute("CREATE TABLE clients (id INTEGER PRIMARY KEY, last TEXT, email TEXT, phone TEXT, born TEXT)")
    con.executemany("INSERT INTO clients VALUES (?, ?, ?, ?, ?)", ROWS)
    con.execute("CREATE TABLE accounts (no TEXT PRIMARY KEY, surname TEXT, mail TEXT)")
    con.execute("INSERT INTO accounts VALUES ('A-1', 'Petrenko', 'PETRENKO@example.com')")
    con.commit()
    con.close()
    config = {
        "systems": {"crm": {"type": "sql", "url": "sqlite:///data/crm.db"},
                    "billing": {"type": "sql", "url": "sqlite:///data/crm.db"}},
        "mappings": {
            "crm_clients": {"system": "crm", "stream": "clients", "target": "customer", "key": "id",
                            "fields": {"customer_number": "id", "name.last": "last", "contact.email": "email",
                                       "contact.phone": {"from": "phone", "transforms": [{"phone": {"region": "UA"}}],
                                                         "on_error": phone_on_error},
                                       "birth_date": {"from": "born", "transforms": [{"date": "%Y-%m-%d"}],
                                                      "on_error": "null"}}},
            "crm_accounts": {"system": "billing", "stream": "accounts", "target": "customer", "key": "no",
                             "fields": {"customer_number": "no", "name.last": "surname", "contact.email": "mail"}},
        },
        "pipelines": {"clients_in": {"kind": "ingest", "mapping": "crm_clients"},
                      "accounts_in": {"kind": "ingest", "mapping": "crm_accounts"}},
        "identity": {"customer": {"match": {"keys": [{"name": "email", "columns": ["contact__email"],
                                                      "normalise": "email"}]}}},
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _customer_of(folder: Path, system_vendor: str) -> dict:
    found = json.loads(run_cli("-p", str(folder), "subject", "find", system_vendor, "--json").stdout)
    [hit] = found
    return json.loads(run_cli("-p", str(folder), "record", "show", hit["canonical_id"], "--json").stdout)


def test_a_flagged_value_keeps_the_record_and_shows_in_record_show(tmp_path: Path):
    folder = _estate(tmp_path / "estate")

    done = run_cli("-p", str(folder), "sync", "clients_in", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    [run] = json.loads(done.stdout)
    assert (run["records_written"], run["records_quarantined"]) == (3, 0)
    assert (run["fields_flagged"], run["fields_nulled"]) == (1, 1)
    history = json.loads(run_cli("-p", str(folder), "runs", "--json").stdout)
    assert (history[0]["fields_flagged"], history[0]["fields_nulled"]) == (1, 1)
    assert "flagged" in run_cli("-p", str(folder), "runs").stdout

    petrenko = _customer_of(folder, "petrenko@example.com")
    values = {f["field"]: f["value"] for f in petrenko["fields"]}
    assert "contact.phone" not in values and values["contact.email"] == "petrenko@example.com"
    [flag] = petrenko["flags"]
    assert (flag["system"], flag["vendor_id"], flag["field"], flag["raw"]) == ("crm", "1", "contact.phone", "12-34")
    assert flag["reason"] == "phone → contact.phone: not a valid phone number"
    shown = run_cli("-p", str(folder), "record", "show", petrenko["canonical_id"]).stdout
    assert "data-quality flags" in shown and "12-34" in shown
    koval = _customer_of(folder, "koval@example.com")
    assert koval["flags"] == [] and "birth_date" not in {f["field"] for f in koval["fields"]}
    assert json.loads(run_cli("-p", str(folder), "quarantine", "list", "--json").stdout)["total"] == 0

    # Matched on its valid fields: another system's account with the same e-mail joins the record.
    assert run_cli("-p", str(folder), "sync", "accounts_in").returncode == 0
    again = _customer_of(folder, "petrenko@example.com")
    assert again["canonical_id"] == petrenko["canonical_id"]
    assert {x["vendor_id"] for x in again["xrefs"]} == {"1", "A-1"}

    # The source fixes the number: the flag clears, the value arrives.
    con = sqlite3.connect(folder / "data" / "crm.db")
    con.execute("UPDATE clients SET phone = '044 123 0000' WHERE id = 1")
    con.commit()
    con.close()
    assert run_cli("-p", str(folder), "sync", "clients_in").returncode == 0
    fixed = _customer_of(folder, "petrenko@example.com")
    assert fixed["flags"] == []
    assert {f["field"]: f["value"] for f in fixed["fields"]}["contact.phone"] == "+380441230000"


def test_without_on_error_a_value_that_does_not_convert_quarantines_the_record(tmp_path: Path):
    folder = _estate(tmp_path / "estate", phone_on_error="quarantine")

    done = run_cli("-p", str(folder), "sync", "clients_in", "--json")

    [run] = json.loads(done.stdout)
    assert (run["records_written"], run["records_quarantined"], run["fields_flagged"]) == (2, 1, 0)

    # The mapping is relaxed to flag the phone; the replay stores the record with its flag.
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["mappings"]["crm_clients"]["fields"]["contact.phone"]["on_error"] = "flag"
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    replayed = run_cli("-p", str(folder), "quarantine", "replay", "--json")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    [flag] = _customer_of(folder, "petrenko@example.com")["flags"]
    assert (flag["field"], flag["raw"]) == ("contact.phone", "12-34")
    history = json.loads(run_cli("-p", str(folder), "runs", "--json").stdout)
    assert (history[0]["kind"], history[0]["fields_flagged"]) == ("replay", 1)


def test_a_flag_in_a_repeating_group_is_refused_by_check(tmp_path: Path):
    folder = _estate(tmp_path / "estate")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["mappings"]["hr_sick"] = {
        "system": "crm", "stream": "sick", "target": "employee.sick_leave", "key": "id", "parent_key": "emp",
        "fields": {"period.start": {"from": "start", "transforms": [{"date": "%d.%m.%Y"}], "on_error": "flag"}}}
    config["pipelines"]["sick_in"] = {"kind": "ingest", "mapping": "hr_sick"}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    done = run_cli("-p", str(folder), "check")

    assert done.returncode == 2 and "on_error: flag is for fields of a record" in done.stderr
