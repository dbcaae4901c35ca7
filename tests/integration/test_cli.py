"""The officehub command line as users meet it: exit codes, one-line errors, JSON, tables."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import run_cli, synced_demo


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synced_demo(tmp_path_factory.mktemp("cli"))


def test_sync_json_reports_figures_per_pipeline(synced: Path):
    again = run_cli("sync", "crm_customers_in", "reporting_customers_out", "--json", "-p", str(synced))
    assert again.returncode == 0
    results = json.loads(again.stdout)
    assert [r["pipeline"] for r in results] == ["crm_customers_in", "reporting_customers_out"]
    assert all(r["status"] == "succeeded" and r["records_written"] == 0 for r in results)


def test_runs_shows_history_with_metrics(synced: Path):
    shown = run_cli("-p", str(synced), "runs", "--pipeline", "payroll_employees_out", "--json")
    history = json.loads(shown.stdout)
    assert history[-1]["status"] == "succeeded"
    assert history[-1]["records_written"] == 117 and history[-1]["fields_redacted"] > 0
    table = run_cli("-p", str(synced), "runs")
    assert "payroll_employees_out" in table.stdout and "redacted" in table.stdout


def test_quarantine_list_and_show_hide_values_unless_revealed(synced: Path):
    page = json.loads(run_cli("-p", str(synced), "quarantine", "list", "--json").stdout)
    listed = page["items"]
    assert len(listed) == 26 and page["total"] == 26
    bad_phone = next(q for q in listed if "contact.phone" in q["reason"])
    assert bad_phone["position"].startswith("row ")
    hidden = run_cli("-p", str(synced), "quarantine", "show", str(bad_phone["id"]))
    assert "n/a" not in hidden.stdout and "<hidden>" in hidden.stdout
    revealed = json.loads(run_cli("-p", str(synced), "quarantine", "show", str(bad_phone["id"]), "--reveal",
                                  "--reason", "fixing the phone mapping", "--json").stdout)
    assert revealed["raw"]["PHONE"] == "n/a"
    looked = json.loads(run_cli("-p", str(synced), "audit", "list", "--action", "quarantine.reveal", "--json").stdout)
    assert looked[0]["subject"] == f"quarantine {bad_phone['id']}" and "n/a" not in json.dumps(looked)


def test_quarantine_replay_stores_records_once_the_mapping_is_fixed(synced: Path):
    mapping = synced / "mappings" / "crm.yaml"
    original = mapping.read_text()
    # The fix an IT person would make: treat 'n/a' as "no phone number".
    mapping.write_text(original.replace("transforms: [{phone: {region: UA}}]",
                                        "transforms: [{null_if: [n/a]}, {phone: {region: UA}}]"))
    hub = sqlite3.connect(synced / ".officehub" / "hub.db")
    before = hub.execute("SELECT count(*) FROM customer").fetchone()[0]
    hub.close()
    try:
        replayed = json.loads(run_cli("-p", str(synced), "quarantine", "replay", "--pipeline", "crm_customers_in",
                                      "--json").stdout)
    finally:
        mapping.write_text(original)
    assert replayed[0]["records_read"] == 10 and replayed[0]["records_written"] == 2
    left = json.loads(run_cli("-p", str(synced), "quarantine", "list", "--pipeline", "crm_customers_in",
                              "--json").stdout)["items"]
    assert len(left) == 8 and not any("contact.phone" in q["reason"] for q in left)
    hub = sqlite3.connect(synced / ".officehub" / "hub.db")
    assert hub.execute("SELECT count(*) FROM customer").fetchone()[0] == before + 2
    hub.close()


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path):
    from tests.conftest import copy_demo_config

    folder = copy_demo_config(tmp_path / "broken")
    crm = folder / "mappings" / "crm.yaml"
    crm.write_text(crm.read_text().replace("system: crm", "system: crmm").replace('"%d.%m.%Y"', "{fmt: 1}"))
    pipelines = folder / "pipelines.yaml"
    pipelines.write_text(pipelines.read_text().replace("mapping: hr_employees,", "mapping: hr_staff,"))
    checked = run_cli("-p", str(folder), "check")
    assert checked.returncode == 2
    lines = checked.stderr.splitlines()
    assert any(line.startswith("error mappings/crm.yaml:3:") and "unknown system 'crmm'" in line for line in lines)
    assert any(line.startswith("error mappings/crm.yaml:") and "birth_date" in line for line in lines)
    assert any(line.startswith("error pipelines.yaml:") and "unknown mapping 'hr_staff'" in line for line in lines)
    assert "Traceback" not in checked.stderr


def test_init_scaffolds_a_project_that_checks_clean(tmp_path: Path):
    assert run_cli("init", str(tmp_path / "hub")).returncode == 0
    checked = run_cli("-p", str(tmp_path / "hub"), "check", "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)["ok"] is True
    again = run_cli("init", str(tmp_path / "hub"))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_check_warns_for_each_publish_without_an_agreement_and_still_passes(tmp_path: Path):
    from tests.conftest import copy_demo_config

    folder = copy_demo_config(tmp_path / "no-policies")
    config = folder / "officehub.yaml"
    config.write_text(config.read_text().replace("policies:\n  - policies/*.yaml\n", ""))
    expected = ("pipeline reporting_customers_out → reporting: no data-sharing agreement in force; reporting "
                "receives no personal or financial data")
    checked = run_cli("-p", str(folder), "check")
    assert checked.returncode == 0, checked.stderr
    warned = [line for line in checked.stdout.splitlines() if line.startswith("warning pipeline ")]
    assert len(warned) == 8 and f"warning {expected}" in warned
    as_json = json.loads(run_cli("-p", str(folder), "check", "--json").stdout)
    assert as_json["ok"] is True and expected in as_json["warnings"]
    with_policies = json.loads(run_cli("-p", str(copy_demo_config(tmp_path / "demo")), "check", "--json").stdout)
    assert not [w for w in with_policies["warnings"] if w.startswith("pipeline ")]


def test_bad_input_gets_one_line_without_traceback_unless_debug(tmp_path: Path):
    from tests.conftest import copy_demo_config

    folder = copy_demo_config(tmp_path / "unreachable")
    systems = folder / "systems" / "crm.yaml"
    systems.write_text(systems.read_text().replace("sqlite:///data/crm.db",
                                                   "postgresql+psycopg://crm@127.0.0.1:1/crm"))
    failed = run_cli("-p", str(folder), "sync", "crm_customers_in")
    assert failed.returncode == 75
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error")]
    assert errors == [errors[0]] and "system 'crm'" in errors[0] and "database unavailable" in errors[0]
    assert "Traceback" not in failed.stderr
    missing = run_cli("-p", str(tmp_path / "nowhere"), "check")
    assert missing.returncode == 2 and "no officehub.yaml" in missing.stderr
    debug = run_cli("--debug", "-p", str(tmp_path / "nowhere"), "check")
    assert "Traceback" in debug.stderr


def test_unknown_pipeline_and_missing_arguments_are_usage_errors(synced: Path):
    unknown = run_cli("-p", str(synced), "sync", "nope")
    assert unknown.returncode == 2 and "unknown pipeline(s): nope" in unknown.stderr
    neither = run_cli("-p", str(synced), "sync")
    assert neither.returncode == 2 and "--all" in neither.stderr


def test_model_schema_and_fields_show_sensitivity_classes():
    schema = json.loads(run_cli("model", "schema", "employee").stdout)
    assert schema["properties"]["sick_leave"]["x-sensitivity"] == "medical"
    assert schema["properties"]["background_check"]["x-sensitivity"] == "criminal"
    assert schema["properties"]["garnishments"]["x-sensitivity"] == "legal"
    assert schema["x-schema-version"] == 1
    fields = json.loads(run_cli("model", "fields", "employee", "--json").stdout)
    by_path = {f["path"]: f for f in fields}
    assert by_path["sick_leave[].diagnosis_code"]["sensitivity"] == "medical"
    assert by_path["employee_number"]["required"] == "yes"
    assert by_path["name.last"]["required"] == ""  # a name needs a first or a last name, not both
    customer = {f["path"]: f for f in json.loads(run_cli("model", "fields", "customer", "--json").stdout)}
    assert customer["notes"]["free_text"] is True and customer["name.last"]["free_text"] is False
    assert "free text" in run_cli("model", "fields", "customer").stdout
    # Every constraint is shown before a record is quarantined for breaking it.
    assert customer["segment"]["constraints"] == ["one of key_account (Key account), standard (Standard), "
                                                  "occasional (Occasional)"]
    assert customer["name.last"]["constraints"] == ["at least 1 character(s)", "at most 100 character(s)"]
    assert "IBAN of its country's length, format and check digits (schwifty)" in by_path["bank_account_iban"]["constraints"]
    assert by_path["sick_leave[].diagnosis_code"]["constraints"] == [r"matches ^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"]
    assert "at most 100 character(s)" in run_cli("model", "fields", "customer").stdout


def test_discover_lists_vendor_streams(synced: Path):
    streams = json.loads(run_cli("-p", str(synced), "discover", "hr", "--json").stdout)
    names = {s["name"]: s for s in streams}
    assert {"employees", "sick_leave", "background_checks", "litigation_holds", "garnishments"} <= set(names)
    assert names["employees"]["primary_key"] == ["emp_id"]
    files = json.loads(run_cli("-p", str(synced), "discover", "inventory", "--json").stdout)
    assert [f["name"] for f in files[0]["fields"]][:2] == ["SKU", "GTIN"]


def test_a_missing_source_database_file_is_named(tmp_path: Path):
    from tests.conftest import copy_demo_config

    folder = copy_demo_config(tmp_path / "no-data")
    failed = run_cli("-p", str(folder), "sync", "crm_customers_in", "--json")
    assert failed.returncode == 2
    assert json.loads(failed.stdout)[0]["error"].startswith("system 'crm': database file ")
    assert "does not exist" in failed.stderr
    assert not (folder / "data" / "crm.db").exists()
