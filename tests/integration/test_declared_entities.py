"""A project's own entities, declared in YAML, work like the built-ins — and a changed model
reaches the hub store only through `model diff` and `store upgrade`.

The estate is a Ukrainian pharmacy distributor's ERP (not the demo): counterparties are
companies with an ЄДРПОУ registration number, staff have a РНОКПП tax id.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.helpers import run_cli

SUPPLIERS = [(1, "Фарм-Дистрибуція", "TOV", "32855961"),   # valid ЄДРПОУ
             (2, "Аптека Лан", "FOP", "32855962"),          # bad check digit: quarantined
             (3, "Медсервіс", "TOV", None)]
STAFF = [(1, "Коваль", "3046214001"), (2, "Бойко", "3046214002")]  # the second tax id is not valid

MODEL: dict[str, Any] = {
    "entities": {"supplier": {"description": "A company we buy from (accounting).", "fields": {
        "legal_name": {"type": "string", "class": "public", "required": True, "max_length": 200},
        "legal_form": {"type": "enum", "class": "public", "values": {"TOV": "ТОВ", "FOP": "ФОП"}},
        "registration_number": {"type": "string", "class": "public", "validator": "ua.edrpou"}}}},
    "extend": {"employee": {"fields": {"pension_number": {"type": "string", "class": "financial", "max_length": 20}}}},
}


def _estate(folder: Path, store: str | None = None) -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "model").mkdir()
    (folder / "out").mkdir()
    con = sqlite3.connect(folder / "data" / "erp.db")
    con.execute("CREATE TABLE kontragent (id INTEGER PRIMARY KEY, nazva TEXT, forma TEXT, edrpou TEXT)")
    con.executemany("INSERT INTO kontragent VALUES (?, ?, ?, ?)", SUPPLIERS)
    con.execute("CREATE TABLE staff (id INTEGER PRIMARY KEY, prizvyshche TEXT, ipn TEXT)")
    con.executemany("INSERT INTO staff VALUES (?, ?, ?)", STAFF)
    con.commit()
    con.close()
    _write_model(folder, MODEL)
    config = {
        "include": ["model/*.yaml"],
        "systems": {"erp": {"type": "sql", "url": "sqlite:///data/erp.db"},
                    "reporting": {"type": "sql", "url": "sqlite:///out/reporting.db"}},
        "mappings": {
            "erp_suppliers": {"system": "erp", "stream": "kontragent", "target": "supplier", "key": "id", "fields": {
                "legal_name": "nazva", "legal_form": "forma", "registration_number": "edrpou"}},
            "erp_staff": {"system": "erp", "stream": "staff", "target": "employee", "key": "id", "fields": {
                "employee_number": "id", "name.last": "prizvyshche", "tax_id.number": "ipn",
                "tax_id.country": {"from": "ipn", "transforms": [{"constant": "UA"}]}}},
            "reporting_suppliers": {"system": "reporting", "stream": "suppliers", "target": "supplier",
                                    "key": "hub_id", "fields": {"canonical_id": "hub_id", "legal_name": "name",
                                                                "registration_number": "edrpou"}},
        },
        "pipelines": {"suppliers_in": {"kind": "ingest", "mapping": "erp_suppliers"},
                      "staff_in": {"kind": "ingest", "mapping": "erp_staff"},
                      "suppliers_out": {"kind": "publish", "mapping": "reporting_suppliers"}},
    }
    if store:
        config["hub"] = {"store": store}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return folder


def _write_model(folder: Path, model: dict[str, Any]) -> None:
    (folder / "model" / "accounting.yaml").write_text(yaml.safe_dump(model, allow_unicode=True, sort_keys=False))


def _cli(folder: Path, *args: str) -> Any:
    done = run_cli("-p", str(folder), *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_a_declared_entity_is_ingested_validated_and_published(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "erp")
    assert run_cli("-p", str(folder), "check").returncode == 0

    results = {r["pipeline"]: r for r in _cli(folder, "sync", "--all")}

    assert results["suppliers_in"]["records_written"] == 2 and results["suppliers_in"]["records_quarantined"] == 1
    assert results["staff_in"]["records_written"] == 1 and results["staff_in"]["records_quarantined"] == 1
    reasons = {q["reason"] for q in _cli(folder, "quarantine", "list")["items"]}
    assert any(r.startswith("registration_number: ") and "not a valid ua.edrpou" in r for r in reasons)
    assert any(r.startswith("tax_id.number: ") and "not a valid ua.rntrc" in r for r in reasons)
    assert not any("32855962" in r or "3046214002" in r for r in reasons)  # reasons never quote the value
    with sqlite3.connect(folder / "out" / "reporting.db") as con:
        rows = sorted(con.execute("SELECT name, edrpou FROM suppliers").fetchall())
    assert rows == [("Медсервіс", None), ("Фарм-Дистрибуція", "32855961")]


def test_model_fields_and_schema_show_the_projects_declared_entities(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "erp")
    supplier = {f["path"]: f for f in _cli(folder, "model", "fields", "supplier")}
    assert supplier["registration_number"]["constraints"] == ["valid ua.edrpou (python-stdnum)"]
    assert supplier["legal_form"]["constraints"] == ["one of TOV (ТОВ), FOP (ФОП)"]
    assert supplier["legal_name"]["required"] == "yes" and supplier["legal_name"]["sensitivity"] == "public"
    employee = {f["path"]: f for f in _cli(folder, "model", "fields", "employee")}
    assert employee["pension_number"]["sensitivity"] == "financial"
    assert employee["tax_id.number"]["sensitivity"] == "financial"  # the built-in one
    schema = json.loads(run_cli("-p", str(folder), "model", "schema", "supplier").stdout)
    assert "registration_number" in schema["properties"]
    shown = run_cli("-p", str(folder), "model", "fields", "customer").stdout
    assert "A customer needs at least one of: name, organisation." in shown
    # Outside the project only the built-ins exist.
    assert run_cli("model", "fields", "supplier").returncode == 2


def test_model_files_with_mistakes_are_reported_together_with_file_and_line(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "erp")
    (folder / "model" / "broken.yaml").write_text(
        "entities:\n"
        "  invoice:\n"
        "    fields:\n"
        "      total: {type: integr, class: financial}\n"
        "  ledger:\n"
        "    fields:\n"
        "      number: {type: string}\n"
        "      customer: {type: reference, entity: client, class: internal}\n"
        "extend:\n"
        "  employee:\n"
        "    fields:\n"
        "      name: {type: string, class: personal}\n"
        "  nosuch:\n"
        "    fields:\n"
        "      x: {type: string, class: public}\n")

    checked = run_cli("-p", str(folder), "check")

    assert checked.returncode == 2
    lines = checked.stderr.splitlines()
    expected = ["model/broken.yaml:4: entities.invoice.fields.total.type: Input should be",
                "model/broken.yaml:7: entities.ledger.fields.number: a sensitivity class ('class') is required",
                "model/broken.yaml:8: entities.ledger.fields.customer: refers to entity 'client'",
                "model/broken.yaml:12: extend.employee.fields.name: employee already has this field",
                "model/broken.yaml:13: extend.nosuch: no such entity"]
    for start in expected:
        assert any(line.startswith(f"error {start}") for line in lines), (start, checked.stderr)
    # The sound declarations still stand: no mapping of theirs is reported.
    assert "erp_suppliers" not in checked.stderr and "pension_number" not in checked.stderr


def test_a_new_field_waits_for_store_upgrade_then_loads(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "erp")
    _cli(folder, "sync", "suppliers_in")
    grown = json.loads(json.dumps(MODEL))
    grown["entities"]["supplier"]["fields"]["vat_number"] = {"type": "string", "class": "public", "max_length": 20}
    _write_model(folder, grown)

    refused = run_cli("-p", str(folder), "sync", "suppliers_in")
    assert refused.returncode == 2
    assert "does not fit the model in force" in refused.stderr and "officehub store upgrade" in refused.stderr
    diff = _cli(folder, "model", "diff")
    assert {(c["kind"], c["table"], c["column"]) for c in diff["changes"]} == {
        ("add column", "supplier", "vat_number"), ("add column", "supplier__source", "vat_number"),
        ("add column", "supplier__history", "vat_number")}
    assert diff["destructive"] == 0

    upgraded = _cli(folder, "store", "upgrade")

    assert len(upgraded["changes"]) == 3
    assert _cli(folder, "model", "diff")["changes"] == []
    assert _cli(folder, "sync", "suppliers_in")[0]["status"] == "succeeded"
    audited = [e["action"] for e in _cli(folder, "audit", "list")]
    assert audited.count("model.add_column") == 3


def _as_made_by_an_older_release(folder: Path, columns: list[str]) -> None:
    """The store as the release before made it: without ``columns`` of the employee tables."""
    with sqlite3.connect(folder / ".officehub" / "hub.db") as con:
        for table in ("employee", "employee__source", "employee__history"):
            for column in columns:
                for (index,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                            "AND sql LIKE ?", (table, f"%{column}%")).fetchall():
                    con.execute(f'DROP INDEX "{index}"')  # the release before had no index on it either
                con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        con.execute("UPDATE hub_model SET fingerprint = 'an older release'")


def test_fields_a_release_adds_to_the_built_ins_are_added_on_opening_and_audited(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "erp")
    _cli(folder, "sync", "staff_in")
    added = ["name__middle", "tax_id__country", "tax_id__number"]
    _as_made_by_an_older_release(folder, added)

    assert _cli(folder, "sync", "staff_in")[0]["status"] == "succeeded"

    with sqlite3.connect(folder / ".officehub" / "hub.db") as con:
        assert set(added) <= {row[1] for row in con.execute("PRAGMA table_info(employee__source)")}
        # the tax number arrives with the index the hub API's exact search looks it up by
        assert con.execute("SELECT 1 FROM sqlite_master WHERE name = 'ix_employee_tax_id'").fetchone()
    entries = {(e["action"], e["subject"], e["actor"]) for e in _cli(folder, "audit", "list")}
    assert {("model.add_column", f"employee.{column}", "officehub (release)") for column in added} <= entries
    assert _cli(folder, "model", "diff")["changes"] == []


def test_a_release_change_waits_for_store_upgrade_beside_a_projects_own(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "erp")
    _cli(folder, "sync", "staff_in")
    _as_made_by_an_older_release(folder, ["name__middle"])
    grown = json.loads(json.dumps(MODEL))
    grown["extend"]["employee"]["fields"]["badge"] = {"type": "string", "class": "internal", "max_length": 20}
    _write_model(folder, grown)

    refused = run_cli("-p", str(folder), "sync", "staff_in")

    assert refused.returncode == 2 and "officehub store upgrade" in refused.stderr
    assert len(_cli(folder, "store", "upgrade")["changes"]) == 6
    assert _cli(folder, "sync", "staff_in")[0]["status"] == "succeeded"


def test_dropping_a_field_or_lowering_its_class_needs_the_flag_and_is_audited(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "erp")
    _cli(folder, "sync", "staff_in")
    shrunk = json.loads(json.dumps(MODEL))
    shrunk["entities"]["supplier"]["fields"].pop("legal_form")
    shrunk["extend"]["employee"]["fields"]["pension_number"]["class"] = "internal"
    _write_model(folder, shrunk)
    config = folder / "officehub.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("      legal_form: forma\n", ""), encoding="utf-8")

    refused = run_cli("-p", str(folder), "store", "upgrade")

    assert refused.returncode == 2
    assert "drop column supplier.legal_form: deletes the column's values in every row" in refused.stderr
    assert "lower class employee.pension_number (financial → internal)" in refused.stderr
    with sqlite3.connect(folder / ".officehub" / "hub.db") as con:
        assert "legal_form" in {row[1] for row in con.execute("PRAGMA table_info(supplier)")}

    applied = _cli(folder, "store", "upgrade", "--allow-destructive")

    assert applied["destructive"] == 4
    with sqlite3.connect(folder / ".officehub" / "hub.db") as con:
        assert "legal_form" not in {row[1] for row in con.execute("PRAGMA table_info(supplier)")}
    entries = {(e["action"], e["subject"]) for e in _cli(folder, "audit", "list")}
    assert ("model.lower_class", "employee.pension_number") in entries
    assert ("model.drop_column", "supplier.legal_form") in entries
    # Less protection is a policy event: policy check names the field and the classes.
    checked = run_cli("-p", str(folder), "policy", "check", "--json")
    lowered = [f for f in json.loads(checked.stdout) if f["subject"] == "employee.pension_number"]
    assert lowered and "financial → internal" in lowered[0]["message"]
    assert _cli(folder, "sync", "staff_in")[0]["status"] == "succeeded"


def test_a_postgresql_store_gets_the_declared_tables_and_later_columns(tmp_path: Path, postgres_url: str) -> None:
    folder = _estate(tmp_path / "erp", store=postgres_url)
    _cli(folder, "sync", "suppliers_in")
    grown = json.loads(json.dumps(MODEL))
    grown["entities"]["invoice"] = {"fields": {
        "number": {"type": "string", "class": "financial", "required": True, "max_length": 30},
        "supplier": {"type": "reference", "entity": "supplier", "class": "internal"},
        "lines": {"type": "group", "repeated": True, "class": "financial", "fields": {
            "sku": {"type": "string", "required": True, "max_length": 40},
            "amount": {"type": "money", "required": True}}}}}
    _write_model(folder, grown)

    kinds = {(c["kind"], c["table"]) for c in _cli(folder, "store", "upgrade")["changes"]}

    assert {("add table", "invoice"), ("add table", "invoice__lines"), ("add table", "invoice__source")} <= kinds
    engine = sa.create_engine(postgres_url)
    try:
        names = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"invoice", "invoice__lines", "invoice__source", "invoice__history", "supplier"} <= names
    assert _cli(folder, "model", "diff")["changes"] == []


@pytest.mark.parametrize("command", [["model", "diff"], ["store", "upgrade"]])
def test_the_model_commands_name_no_value(tmp_path: Path, command: list[str]) -> None:
    folder = _estate(tmp_path / "erp")
    _cli(folder, "sync", "--all")
    done = run_cli("-p", str(folder), *command)
    assert done.returncode == 0
    for value in ("Фарм", "32855961", "Коваль", "3046214001"):
        assert value not in done.stdout + done.stderr


def test_a_declared_entity_is_matched_found_exported_and_erased_like_a_built_in(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "erp")
    with sqlite3.connect(folder / "data" / "bank.db") as con:
        con.execute("CREATE TABLE payees (code TEXT PRIMARY KEY, title TEXT, edrpou TEXT)")
        con.execute("INSERT INTO payees VALUES ('P-7', 'ФАРМ-ДИСТРИБУЦІЯ ТОВ', '32855961')")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["systems"]["bank"] = {"type": "sql", "url": "sqlite:///data/bank.db"}
    config["mappings"]["bank_payees"] = {"system": "bank", "stream": "payees", "target": "supplier", "key": "code",
                                         "fields": {"legal_name": "title", "registration_number": "edrpou"}}
    config["pipelines"] = {"suppliers_in": {"kind": "ingest", "mapping": "erp_suppliers"},
                           "payees_in": {"kind": "ingest", "mapping": "bank_payees"}}
    config["identity"] = {"supplier": {"match": {"keys": [{"name": "edrpou", "columns": ["registration_number"],
                                                          "normalise": "id"}]}}}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))

    runs = {r["pipeline"]: r for r in _cli(folder, "sync", "--all")}

    assert runs["payees_in"]["records_linked"] == 1  # the bank's payee is the ERP's supplier
    [hit] = _cli(folder, "subject", "find", "32855961")
    assert hit["entity"] == "supplier" and sorted(map(tuple, hit["systems"])) == [("bank", "P-7"), ("erp", "1")]
    exported = json.loads(run_cli("-p", str(folder), "subject", "export", hit["canonical_id"]).stdout)
    assert exported["record"]["registration_number"] == "32855961"
    assert {s["system"] for s in exported["systems"]} == {"bank", "erp"}
    erased = run_cli("-p", str(folder), "subject", "erase", hit["canonical_id"], "--yes", "--json")
    assert erased.returncode in (0, 1), erased.stdout + erased.stderr  # SQL sources may refuse deletes
    shown = _cli(folder, "record", "show", hit["canonical_id"])
    assert shown["status"] == "erased" and shown["fields"] == []
