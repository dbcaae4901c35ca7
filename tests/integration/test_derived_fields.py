"""Special-category data copied into an ordinary field: `check` finds it, and a declared class keeps it in."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import run_cli, sync_all

#: Every occupational-health value carries it; no output may ever show it.
SENTINEL = "SENTINEL-OCC-7f3a"
STAFF = [(1, "Koval", "Storekeeper", f"no lifting over 10 kg {SENTINEL}", "2019-03-01"),
         (2, "Bondar", "Driver", f"no night shifts {SENTINEL}", "2021-06-15"),
         (3, "Shevchuk", "Accountant", None, "2020-01-10")]
JOB_TITLE = {"from": ["title", "occ_health"], "transforms": [{"concat": {"separator": " / "}}]}


def _estate(folder: Path, job_title: dict[str, Any] = JOB_TITLE, **extra_fields: Any) -> Path:
    """An HR table whose occupational-health column is concatenated into the job title; a reporting database."""
    (folder / "data").mkdir(parents=True)
    con = sqlite3.connect(folder / "data" / "hr.db")
    con.execute("CREATE TABLE staff (id INTEGER PRIMARY KEY, last TEXT, title TEXT, occ_health TEXT, hired TEXT)")
    con.executemany("INSERT INTO staff VALUES (?, ?, ?, ?, ?)", STAFF)
    con.commit()
    con.close()
    fields = {"employee_number": "id", "name.last": "last", "employment.hire_date": "hired",
              "employment.job_title": job_title, "occupational_health_restrictions": "occ_health", **extra_fields}
    config = {
        "systems": {"hr": {"type": "sql", "url": "sqlite:///data/hr.db"},
                    "reporting": {"type": "sql", "url": "sqlite:///out/reporting.db"}},
        "mappings": {
            "hr_staff": {"system": "hr", "stream": "staff", "target": "employee", "key": "id", "fields": fields},
            "reporting_staff": {"system": "reporting", "stream": "employees", "target": "employee", "key": "hub_id",
                                "fields": {"canonical_id": "hub_id", "employee_number": "employee_number",
                                           "name.last": "last_name", "employment.job_title": "job_title",
                                           "occupational_health_restrictions": "health"}},
        },
        "pipelines": {"staff_in": {"kind": "ingest", "mapping": "hr_staff"},
                      "staff_out": {"kind": "publish", "mapping": "reporting_staff"}},
        "policies": ["policy.yaml"],
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (folder / "policy.yaml").write_text(yaml.safe_dump({
        "name": "reporting",
        "agreements": [{"id": "dashboards", "destination": "reporting", "purpose": "workforce reporting",
                        "legal_basis": "GDPR Art. 6(1)(f) legitimate interest", "valid_from": "2020-01-01"}],
    }))
    return folder


def _errors(folder: Path, *command: str) -> tuple[int, list[str], str]:
    done = run_cli("-p", str(folder), *command)
    return done.returncode, [line for line in done.stderr.splitlines() if line.startswith("error")], \
        done.stdout + done.stderr


def _line_of(folder: Path, text: str) -> int:
    return next(n for n, line in enumerate((folder / "officehub.yaml").read_text().splitlines(), 1) if text in line)


def test_a_job_title_that_concatenates_the_health_column_is_a_check_error(tmp_path: Path):
    folder = _estate(tmp_path / "estate")

    code, errors, output = _errors(folder, "check")

    line = _line_of(folder, "employment.job_title:")
    assert code == 2 and len(errors) == 1, output
    assert errors[0].startswith(f"error officehub.yaml:{line}: mappings.hr_staff: field 'employment.job_title' "
                                "takes column 'occ_health', which also feeds medical field "
                                "'employee.occupational_health_restrictions'")
    assert "class: medical" in errors[0] and SENTINEL not in output and "Traceback" not in output
    # The compliance officer's check refuses the project as well, instead of saying nothing.
    policy_code, policy_errors, _ = _errors(folder, "policy", "check")
    assert policy_code == 2 and policy_errors == errors


def test_a_declared_medical_job_title_never_reaches_reporting(tmp_path: Path):
    folder = _estate(tmp_path / "estate", {**JOB_TITLE, "class": "medical"})
    assert run_cli("-p", str(folder), "check").returncode == 0

    results = sync_all(folder)

    assert results["staff_out"].status == "succeeded" and results["staff_out"].metrics.records_written == 3
    reporting = folder / "out" / "reporting.db"
    assert SENTINEL.encode() not in reporting.read_bytes()
    con = sqlite3.connect(reporting)
    columns = [row[1] for row in con.execute("PRAGMA table_info(employees)")]
    rows = con.execute("SELECT last_name FROM employees ORDER BY last_name").fetchall()
    con.close()
    assert rows == [("Bondar",), ("Koval",), ("Shevchuk",)]
    assert "job_title" not in columns and "health" not in columns
    # The hub keeps the value it was given; only what leaves it is policed.
    hub = sqlite3.connect(folder / ".officehub" / "hub.db")
    titles = [t for (t,) in hub.execute("SELECT employment__job_title FROM employee")]
    hub.close()
    assert any(SENTINEL in (t or "") for t in titles)


def test_explain_shows_the_declared_class_of_the_derived_field(tmp_path: Path):
    folder = _estate(tmp_path / "estate", {**JOB_TITLE, "class": "medical"})

    explained = json.loads(run_cli("-p", str(folder), "policy", "explain", "--destination", "reporting",
                                   "--entity", "employee", "--json").stdout)

    fields = {row["field"]: row for row in explained["employee"]["fields"]}
    assert (fields["employment.job_title"]["class"], fields["employment.job_title"]["action"]) == ("medical", "drop")
    assert (fields["employment.department"]["class"], fields["employment.department"]["action"]) == ("internal",
                                                                                                      "allow")


def test_a_column_named_like_health_data_feeding_an_ordinary_field_is_a_check_error(tmp_path: Path):
    # The department column is fed from a column that feeds no medical field, but its name says what it holds.
    folder = _estate(tmp_path / "estate", "title", **{"employment.department": "gesundheit_hinweis"})

    code, errors, output = _errors(folder, "check")

    assert code == 2 and len(errors) == 1, output
    assert errors[0].startswith(f"error officehub.yaml:{_line_of(folder, 'employment.department:')}: "
                                "mappings.hr_staff: field 'employment.department' takes column 'gesundheit_hinweis', "
                                "named like medical data")
    # Someone who looked and found no health data in it says so with the field's own class.
    settled = _estate(tmp_path / "settled", "title",
                      **{"employment.department": {"from": "gesundheit_hinweis", "class": "internal"}})
    assert run_cli("-p", str(settled), "check").returncode == 0


def test_a_declared_class_weaker_than_required_is_a_check_error(tmp_path: Path):
    weaker_than_source = _estate(tmp_path / "legal", {**JOB_TITLE, "class": "legal"})
    weaker_than_model = _estate(tmp_path / "public", "title", **{"employment.department": {"from": "title",
                                                                                            "class": "public"}})

    code, errors, output = _errors(weaker_than_source, "check")
    assert code == 2 and len(errors) == 1, output
    assert errors[0].startswith(f"error officehub.yaml:{_line_of(weaker_than_source, 'class: legal')}: ")
    assert ("field 'employment.job_title' takes column 'occ_health', which also feeds medical field "
            "'employee.occupational_health_restrictions'") in errors[0]
    assert "declared class 'legal' is weaker than medical" in errors[0]
    code, errors, output = _errors(weaker_than_model, "check")
    assert code == 2 and len(errors) == 1, output
    assert "field 'employment.department' takes column 'title'; its declared class 'public' is weaker than " \
           "the model's 'internal'" in errors[0]


def test_lineage_spans_every_mapping_of_the_stream_including_repeating_groups(tmp_path: Path):
    folder = _estate(tmp_path / "estate", "title")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    # One stream of absences feeds the sick-leave group and, through a second mapping, the department.
    config["mappings"]["hr_absence"] = {
        "system": "hr", "stream": "absences", "target": "employee.sick_leave", "key": "id", "parent_key": "emp",
        "fields": {"period.start": "first_day", "diagnosis_code": "reason"}}
    config["mappings"]["hr_absence_unit"] = {
        "system": "hr", "stream": "absences", "target": "employee", "key": "emp", "extends": True,
        "fields": {"employment.department": {"from": ["unit", "reason"], "transforms": ["concat"]}}}
    config["pipelines"].update({"absence_in": {"kind": "ingest", "mapping": "hr_absence"},
                                "absence_unit_in": {"kind": "ingest", "mapping": "hr_absence_unit"}})
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    code, errors, output = _errors(folder, "check")

    assert code == 2 and len(errors) == 1, output
    assert ("mappings.hr_absence_unit: field 'employment.department' takes column 'reason', which also feeds "
            "medical field 'employee.sick_leave.diagnosis_code' (mapping hr_absence)") in errors[0]


def test_a_class_on_a_publish_mapping_is_a_check_error(tmp_path: Path):
    folder = _estate(tmp_path / "estate", "title")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["mappings"]["reporting_staff"]["fields"]["employment.job_title"] = {"from": "job_title", "class": "medical"}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    code, errors, output = _errors(folder, "check")

    assert code == 2 and len(errors) == 1, output
    assert "mappings.reporting_staff: field 'employment.job_title' declares a class, which only an ingest mapping " \
           "can" in errors[0]
