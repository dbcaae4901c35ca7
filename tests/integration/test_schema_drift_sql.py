"""Schema drift on real SQL sources (SQLite, PostgreSQL, MariaDB): columns added, dropped, renamed and
retyped between runs, under each handling — evolve carries on and reports, freeze stores nothing,
quarantine keeps the rows of the new shape aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli, table_rows
from tests.integration.drift_estate import BOOKKEEPING, build, change_facts, execute, hub_query, run, source_url


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    servers = {} if request.param == "sqlite" else {request.param: request.getfixturevalue(f"{request.param}_url")}
    return source_url(request.param, tmp_path, servers)


def _hub(folder: Path) -> dict[str, list[tuple]]:
    """Every hub table but the bookkeeping of runs (which a failed run still writes)."""
    tables = table_rows(f"sqlite:///{folder / '.officehub' / 'hub.db'}")
    return {name: rows for name, rows in tables.items() if name not in BOOKKEEPING}


def _retype(url: str, column: str, to: str) -> list[str]:
    """Statements that change ``column``'s declared type (SQLite rebuilds the table)."""
    if url.startswith("postgresql"):
        return [f'ALTER TABLE staff ALTER COLUMN {column} TYPE {to} USING {column}::{to}']
    if url.startswith("mysql"):
        return [f"ALTER TABLE staff MODIFY {column} {to}"]
    return ["CREATE TABLE staff_new (id INTEGER PRIMARY KEY, last VARCHAR(100), dept VARCHAR(50), "
            f"{column} {to})", "INSERT INTO staff_new SELECT * FROM staff", "DROP TABLE staff",
            "ALTER TABLE staff_new RENAME TO staff"]


def test_evolve_carries_on_and_reports_added_dropped_retyped_and_renamed_columns(url: str, tmp_path: Path):
    folder = build(tmp_path / "estate", url)
    first = run(folder)
    assert first["staff_in"].status == "succeeded" and first["staff_in"].metrics.records_written == 3
    assert change_facts(folder) == []  # the first run records the schema only
    [(columns,)] = hub_query(folder, "SELECT columns FROM stream_schema WHERE system = 'hr' AND stream = 'staff'")
    assert [c["name"] for c in json.loads(columns)] == ["id", "last", "dept"]

    execute(url, "ALTER TABLE staff ADD grade INTEGER", "UPDATE staff SET grade = 7",
            "INSERT INTO staff (id, last, dept, grade) VALUES (4, 'Tkachenko', 'hr', 3)")
    second = run(folder)["staff_in"]
    assert second.status == "succeeded" and second.metrics.records_written == 1
    assert change_facts(folder) == [("added", "grade", "evolve", None)]

    execute(url, *_retype(url, "grade", "VARCHAR(10)"))
    assert run(folder)["staff_in"].status == "succeeded"
    execute(url, "ALTER TABLE staff DROP COLUMN grade",
            "ALTER TABLE staff RENAME COLUMN dept TO department")
    assert run(folder)["staff_in"].status == "succeeded"
    assert change_facts(folder)[1:] == [("retyped", "grade", "evolve", None), ("renamed", "department", "evolve", None),
                                        ("removed", "grade", "evolve", None)]
    assert run(folder)["staff_in"].status == "succeeded" and len(change_facts(folder)) == 4  # nothing new

    listed = run_cli("-p", str(folder), "drift", "--system", "hr", "--json")
    assert listed.returncode == 0, listed.stderr
    found = {(c["kind"], c["column_name"]): c for c in json.loads(listed.stdout)}
    assert found["retyped", "grade"]["detail"] == {"type": "string", "old_type": "int64"}
    assert found["renamed", "department"]["detail"] == {"old_name": "dept", "type": "string", "evidence": "name"}
    since = json.loads(run_cli("-p", str(folder), "drift", "--since", str(found["renamed", "department"]["run_id"]),
                               "--json").stdout)
    assert {c["column_name"] for c in since} == {"department", "grade"} and len(since) == 2
    shown = run_cli("-p", str(folder), "drift", "--stream", "staff")
    assert shown.returncode == 0 and "from dept" in shown.stdout and "int64 → string" in shown.stdout
    assert json.loads(run_cli("-p", str(folder), "drift", "--stream", "other", "--json").stdout) == []


def test_freeze_fails_the_run_before_anything_is_stored(url: str, tmp_path: Path):
    folder = build(tmp_path / "estate", url, handling="freeze")
    assert run(folder)["staff_in"].status == "succeeded"
    before = _hub(folder)
    execute(url, "ALTER TABLE staff ADD bonus INTEGER", "UPDATE staff SET last = 'Changed', bonus = 1",
            "INSERT INTO staff (id, last, dept, bonus) VALUES (9, 'New', 'hr', 2)")

    done = run_cli("-p", str(folder), "sync", "staff_in", "--json")

    assert done.returncode == 1, done.stdout + done.stderr
    [result] = json.loads(done.stdout)
    assert result["status"] == "failed" and result["records_written"] == 0
    assert "hr" in result["error"] and "staff" in result["error"] and "added bonus" in result["error"]
    assert "freeze" in result["error"]
    assert _hub(folder) == before  # no record, link, checkpoint or quarantine entry changed
    assert change_facts(folder) == [("added", "bonus", "freeze", None)]
    # Still frozen at the next run; accepted by one run with evolve.
    assert run(folder)["staff_in"].status == "failed"
    config = (folder / "officehub.yaml").read_text().replace("schema_changes: freeze", "schema_changes: evolve")
    (folder / "officehub.yaml").write_text(config)
    accepted = run(folder)["staff_in"]
    assert accepted.status == "succeeded" and accepted.metrics.records_written == 4


def test_quarantine_keeps_rows_of_the_new_shape_aside_with_their_position(url: str, tmp_path: Path):
    folder = build(tmp_path / "estate", url, handling="quarantine")
    assert run(folder)["staff_in"].status == "succeeded"
    golden_before = _hub(folder)["employee"]
    execute(url, "ALTER TABLE staff RENAME COLUMN last TO surname", "UPDATE staff SET surname = 'Renamed'")

    result = run(folder)["staff_in"]

    assert result.status == "succeeded" and result.metrics.records_quarantined == 3
    assert result.metrics.records_written == 0
    assert _hub(folder)["employee"] == golden_before
    reasons = hub_query(folder, "SELECT position, reason, status FROM quarantine ORDER BY position")
    assert len(reasons) == 3 and all(position and status == "open" for position, _, status in reasons)
    assert {r for _, r, _ in reasons} == {"schema drift: renamed last → surname (schema_changes: quarantine)"}
    assert change_facts(folder) == [("renamed", "surname", "quarantine", None)]


def test_an_unknown_handling_is_a_one_line_configuration_error_naming_file_and_key(tmp_path: Path):
    folder = build(tmp_path / "estate", f"sqlite:///{tmp_path / 'hr.db'}", handling="frozen")

    done = run_cli("-p", str(folder), "check")

    assert done.returncode == 2
    [line] = [s for s in done.stderr.splitlines() if s.startswith("error")]
    assert line.startswith("error officehub.yaml:") and "pipelines.staff_in.schema_changes" in line
    assert "'evolve', 'freeze' or 'quarantine'" in line
