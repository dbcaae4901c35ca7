"""Runs that fail loudly and alone: a run that quarantines most of what it read fails; one pipeline's
bug does not stop the others; pipelines run ingests first whatever order they are named in."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.helpers import run_cli

#: Enough rows for the quarantined share to count (runs that read fewer are not judged by it).
STAFF = [(n, f"Koval{n}", f"20{10 + n % 10}-0{1 + n % 9}-1{n % 10}") for n in range(1, 25)]


def _estate(folder: Path, date_format: str = "%Y-%m-%d", **pipeline_settings) -> Path:
    """An HR table read into the hub, and a reporting database it is published to."""
    (folder / "data").mkdir(parents=True)
    con = sqlite3.connect(folder / "data" / "hr.db")
    con.execute("CREATE TABLE staff (id INTEGER PRIMARY KEY, last TEXT, hired TEXT)")
    con.executemany("INSERT INTO staff VALUES (?, ?, ?)", STAFF)
    con.commit()
    con.close()
    config = {
        "systems": {"hr": {"type": "sql", "url": "sqlite:///data/hr.db"},
                    "reporting": {"type": "sql", "url": "sqlite:///out/reporting.db"}},
        "mappings": {
            "hr_staff": {"system": "hr", "stream": "staff", "target": "employee", "key": "id",
                         "fields": {"employee_number": "id", "name.last": "last",
                                    "employment.hire_date": {"from": "hired", "transforms": [{"date": date_format}]}}},
            "reporting_staff": {"system": "reporting", "stream": "employees", "target": "employee", "key": "hub_id",
                                "fields": {"canonical_id": "hub_id", "employee_number": "employee_number"}},
        },
        "pipelines": {"staff_out": {"kind": "publish", "mapping": "reporting_staff"},
                      "staff_in": {"kind": "ingest", "mapping": "hr_staff", **pipeline_settings}},
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _runs(folder: Path) -> list[tuple[str, str, str | None]]:
    con = sqlite3.connect(folder / ".officehub" / "hub.db")
    try:
        return con.execute("SELECT pipeline, status, error FROM run ORDER BY id").fetchall()
    finally:
        con.close()


def test_a_run_that_quarantines_everything_it_read_fails_with_the_fraction_and_reasons(tmp_path: Path):
    # The layout is wrong for every row (day first): every row is quarantined.
    folder = _estate(tmp_path / "estate", date_format="%d.%m.%Y")

    done = run_cli("-p", str(folder), "sync", "staff_in", "--json")

    assert done.returncode == 1, done.stdout + done.stderr
    [result] = json.loads(done.stdout)
    assert result["status"] == "failed" and result["records_quarantined"] == 24
    assert result["error"].startswith("quarantined 24 of 24 records read (100%), more than max_quarantine_fraction 0.5")
    assert "hired → employment.hire_date" in result["error"] and "(24)" in result["error"]
    assert _runs(folder) == [("staff_in", "failed", result["error"])]
    # Nothing is lost: the rows wait in the quarantine.
    listed = run_cli("-p", str(folder), "quarantine", "list", "--json")
    assert json.loads(listed.stdout)["total"] == 24


def test_the_quarantine_limit_is_set_per_pipeline(tmp_path: Path):
    folder = _estate(tmp_path / "estate", date_format="%d.%m.%Y", max_quarantine_fraction=1.0)

    done = run_cli("-p", str(folder), "sync", "staff_in", "--json")

    assert done.returncode == 0 and json.loads(done.stdout)[0]["status"] == "succeeded"


def test_a_small_run_is_not_judged_by_its_quarantined_share(tmp_path: Path):
    folder = _estate(tmp_path / "estate", date_format="%d.%m.%Y")
    con = sqlite3.connect(folder / "data" / "hr.db")
    con.execute("DELETE FROM staff WHERE id > 3")
    con.commit()
    con.close()

    done = run_cli("-p", str(folder), "sync", "staff_in", "--json")

    assert done.returncode == 0 and json.loads(done.stdout)[0]["records_quarantined"] == 3


def test_one_pipelines_internal_error_does_not_stop_the_others(tmp_path: Path, monkeypatch, capsys):
    from officehub.cli.app import main
    from officehub.engine import ingest

    folder = _estate(tmp_path / "estate")

    def broken(self, run_id, progress):  # a bug in one pipeline, not a problem of the data
        raise KeyError("internal")
    monkeypatch.setattr(ingest.Ingest, "run", broken)
    with pytest.raises(SystemExit) as ended:
        main(["-p", str(folder), "sync", "--all", "--json"])

    results = json.loads(capsys.readouterr().out)
    assert ended.value.code == 70
    assert [(r["pipeline"], r["status"], r["error"]) for r in results] == [
        ("staff_in", "failed", "internal error (KeyError)"), ("staff_out", "succeeded", None)]
    assert [run[:2] for run in _runs(folder)] == [("staff_in", "failed"), ("staff_out", "succeeded")]


def test_named_pipelines_run_ingests_first_whatever_the_order_given(tmp_path: Path):
    folder = _estate(tmp_path / "estate")

    done = run_cli("-p", str(folder), "sync", "staff_out", "staff_in", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout)
    assert [r["pipeline"] for r in results] == ["staff_in", "staff_out"]
    # The publish ran after the ingest, so it sent what the ingest stored (no policies: ids are internal data).
    assert results[1]["records_written"] == len(STAFF)


def test_check_connect_names_the_columns_and_streams_a_source_does_not_have(tmp_path: Path):
    folder = _estate(tmp_path / "estate")
    assert run_cli("-p", str(folder), "check", "--connect").returncode == 0
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["mappings"]["hr_staff"]["key"] = "staff_id"            # a key the table does not have
    config["mappings"]["hr_staff"]["fields"]["name.first"] = "first"
    config["mappings"]["hr_other"] = {**config["mappings"]["hr_staff"], "stream": "contractors"}
    config["pipelines"]["other_in"] = {"kind": "ingest", "mapping": "hr_other"}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert run_cli("-p", str(folder), "check").returncode == 0  # without connecting, nothing is known

    done = run_cli("-p", str(folder), "check", "--connect")

    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error")]
    assert any("mappings.hr_staff: stream 'staff' of system 'hr' has no column(s) first, staff_id" in e
               for e in errors), done.stderr
    assert any("mappings.hr_other: system 'hr' has no stream 'contractors'" in e for e in errors), done.stderr
    assert all("officehub.yaml:" in e for e in errors)  # with file and line


def test_check_refuses_an_enriching_mapping_whose_group_no_mapping_completes(tmp_path: Path):
    folder = _estate(tmp_path / "estate")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["systems"]["org"] = {"type": "sql", "url": "sqlite:///data/hr.db"}
    config["mappings"]["org_units"] = {"system": "org", "stream": "staff", "target": "employee", "key": "id",
                                       "extends": True, "fields": {"employment.department": "last"}}
    config["pipelines"]["units_in"] = {"kind": "ingest", "mapping": "org_units"}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    done = run_cli("-p", str(folder), "check")

    assert done.returncode == 2
    assert "mappings.org_units: maps employment.department but not employment.hire_date" in done.stderr
    # The same enrichment from the system whose main mapping supplies the hire date is fine.
    config["mappings"]["org_units"]["system"] = "hr"
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert run_cli("-p", str(folder), "check").returncode == 0
