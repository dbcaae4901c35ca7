"""References between entities resolve through the cross-reference at ingest.

The accounting app's invoices name their customer by the CRM's customer number. The
hub stores the customer's canonical id instead, so the invoice attaches to the golden
customer the CRM supplied; an invoice for a customer the hub does not hold yet waits
in the quarantine and is stored by a replay once the customer has arrived.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import yaml

from tests.helpers import hub_links, run_cli

MODEL = {"entities": {"invoice": {"description": "An invoice we sent (accounting).", "fields": {
    "number": {"type": "string", "class": "internal", "required": True, "max_length": 40},
    "customer": {"type": "reference", "entity": "customer", "class": "internal", "required": True},
    "total": {"type": "decimal", "class": "financial", "precision": 12, "scale": 2}}}}}


def _estate(folder: Path) -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "model").mkdir()
    (folder / "model" / "accounting.yaml").write_text(yaml.safe_dump(MODEL, sort_keys=False))
    with sqlite3.connect(folder / "data" / "crm.db") as con:
        con.execute("CREATE TABLE clients (custno TEXT PRIMARY KEY, last TEXT)")
        con.executemany("INSERT INTO clients VALUES (?, ?)", [("C1", "Petrenko"), ("C2", "Koval")])
    with sqlite3.connect(folder / "data" / "acc.db") as con:
        con.execute("CREATE TABLE invoices (no TEXT PRIMARY KEY, client TEXT, amount TEXT)")
        con.executemany("INSERT INTO invoices VALUES (?, ?, ?)",
                        [("I-1", "C1", "100.50"), ("I-2", "C2", "7.00"), ("I-3", "C9", "12.00"), ("I-4", "C1", "1.00")])
    config = {
        "include": ["model/*.yaml"],
        "systems": {"crm": {"type": "sql", "url": "sqlite:///data/crm.db"},
                    "accounting": {"type": "sql", "url": "sqlite:///data/acc.db"}},
        "mappings": {
            "crm_clients": {"system": "crm", "stream": "clients", "target": "customer", "key": "custno",
                            "fields": {"customer_number": "custno", "name.last": "last"}},
            "acc_invoices": {"system": "accounting", "stream": "invoices", "target": "invoice", "key": "no",
                             "fields": {"number": "no", "total": "amount",
                                        "customer": {"from": "client", "ids_from": "crm"}}},
        },
        "pipelines": {"clients_in": {"kind": "ingest", "mapping": "crm_clients"},
                      "invoices_in": {"kind": "ingest", "mapping": "acc_invoices"}},
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _invoices(folder: Path) -> dict[str, str]:
    with sqlite3.connect(folder / ".officehub" / "hub.db") as con:
        return dict(con.execute("SELECT number, customer FROM invoice"))


def _customers(folder: Path) -> dict[str, str]:
    with sqlite3.connect(folder / ".officehub" / "hub.db") as con:
        return {vendor: canonical for _, _, vendor, canonical in hub_links(con, "customer")}


def test_an_invoice_attaches_to_the_customer_another_system_supplied(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "estate")
    assert run_cli("-p", str(folder), "check").returncode == 0

    done = run_cli("-p", str(folder), "sync", "--all", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    runs = {r["pipeline"]: r for r in json.loads(done.stdout)}
    assert (runs["invoices_in"]["records_written"], runs["invoices_in"]["records_quarantined"]) == (3, 1)
    customers = _customers(folder)
    assert _invoices(folder) == {"I-1": customers["C1"], "I-2": customers["C2"], "I-4": customers["C1"]}
    [waiting] = json.loads(run_cli("-p", str(folder), "quarantine", "list", "--json").stdout)["items"]
    assert waiting["reason"] == ("customer: no customer from crm with this id in the hub yet "
                                 "(replay the quarantine once it has arrived)")
    assert "C9" not in waiting["reason"]

    # The customer arrives; the replay attaches the waiting invoice to it.
    with sqlite3.connect(folder / "data" / "crm.db") as con:
        con.execute("INSERT INTO clients VALUES ('C9', 'Boiko')")
    assert run_cli("-p", str(folder), "sync", "clients_in").returncode == 0
    replayed = run_cli("-p", str(folder), "quarantine", "replay", "--json")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert _invoices(folder)["I-3"] == _customers(folder)["C9"]
    # Rereading unchanged invoices changes nothing: the hash covers the canonical ids.
    again = json.loads(run_cli("-p", str(folder), "sync", "invoices_in", "--json").stdout)[0]
    assert again["records_written"] == 0


def test_ids_from_must_name_a_system_and_a_reference(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "estate")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["mappings"]["acc_invoices"]["fields"]["customer"]["ids_from"] = "erp"
    config["mappings"]["acc_invoices"]["fields"]["number"] = {"from": "no", "ids_from": "crm"}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    done = run_cli("-p", str(folder), "check")

    assert done.returncode == 2
    assert "field 'customer' takes ids from unknown system 'erp'" in done.stderr
    assert "'number' is not a reference, so it takes no ids_from" in done.stderr


def test_a_published_reference_is_written_as_the_named_systems_id_or_refused(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "estate")
    with sqlite3.connect(folder / "data" / "crm.db") as con:
        con.execute("CREATE TABLE shoppers (login TEXT PRIMARY KEY, last TEXT)")
        con.execute("INSERT INTO shoppers VALUES ('W1', 'Melnyk')")
    with sqlite3.connect(folder / "data" / "acc.db") as con:
        con.execute("CREATE TABLE web_invoices (no TEXT PRIMARY KEY, shopper TEXT, amount TEXT)")
        con.execute("INSERT INTO web_invoices VALUES ('I-9', 'W1', '5.00')")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["systems"]["web"] = {"type": "sql", "url": "sqlite:///data/crm.db"}
    config["systems"]["reporting"] = {"type": "sql", "url": "sqlite:///out/reporting.db"}
    config["mappings"]["web_shoppers"] = {"system": "web", "stream": "shoppers", "target": "customer", "key": "login",
                                          "fields": {"customer_number": "login", "name.last": "last"}}
    config["mappings"]["acc_web_invoices"] = {
        "system": "accounting", "stream": "web_invoices", "target": "invoice", "key": "no",
        "fields": {"number": "no", "total": "amount", "customer": {"from": "shopper", "ids_from": "web"}}}
    config["mappings"]["reporting_invoices"] = {
        "system": "reporting", "stream": "invoices", "target": "invoice", "key": "number",
        "fields": {"number": "number", "customer": {"from": "crm_customer", "ids_from": "crm"}}}
    config["pipelines"] = {"clients_in": {"kind": "ingest", "mapping": "crm_clients"},
                           "shoppers_in": {"kind": "ingest", "mapping": "web_shoppers"},
                           "invoices_in": {"kind": "ingest", "mapping": "acc_invoices"},
                           "web_invoices_in": {"kind": "ingest", "mapping": "acc_web_invoices"},
                           "invoices_out": {"kind": "publish", "mapping": "reporting_invoices"}}
    (folder / "out").mkdir()
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    done = run_cli("-p", str(folder), "sync", "--all", "--json")

    runs = {r["pipeline"]: r for r in json.loads(done.stdout)}
    assert runs["web_invoices_in"]["records_written"] == 1
    assert (runs["invoices_out"]["records_written"], runs["invoices_out"]["records_quarantined"]) == (3, 1)
    with sqlite3.connect(folder / "out" / "reporting.db") as con:
        written = dict(con.execute("SELECT number, crm_customer FROM invoices"))
    assert written == {"I-1": "C1", "I-2": "C2", "I-4": "C1"}  # the CRM's own numbers, not the hub's ids
    reasons = [q["reason"] for q in json.loads(run_cli("-p", str(folder), "quarantine", "list", "--json",
                                                       "--pipeline", "invoices_out").stdout)["items"]]
    assert reasons == ["customer: the customer it refers to has no id in crm yet"]


def test_an_orchestrated_ingest_runs_when_what_it_refers_to_arrives_and_stores_the_rows_that_waited(
        tmp_path: Path) -> None:
    from officehub import orchestrate

    folder = _estate(tmp_path / "estate")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["mappings"]["acc_invoices"]["cursor"] = "no"   # incremental: a later run does not reread I-3
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    specs = {s.name: s for s in orchestrate.pipeline_specs(folder)}
    customers = orchestrate.asset_uri(specs["clients_in"].dag_id.split(".")[0], "customer")
    assert specs["invoices_in"].consumes == (customers,)   # Airflow runs it when customers were ingested
    assert specs["clients_in"].consumes == () and specs["clients_in"].produces == (customers,)
    orchestrate.run(folder, "clients_in")
    assert orchestrate.run(folder, "invoices_in")["stored_late"] == 0   # I-3 waits for C9
    with sqlite3.connect(folder / "data" / "crm.db") as con:
        con.execute("INSERT INTO clients VALUES ('C9', 'Boiko')")

    orchestrate.run(folder, "clients_in")
    figures = orchestrate.run(folder, "invoices_in")

    assert (figures["stored_late"], figures["read"]) == (1, 0)
    assert _invoices(folder)["I-3"] == _customers(folder)["C9"]
    assert json.loads(run_cli("-p", str(folder), "quarantine", "list", "--json").stdout)["items"] == []
