"""Schema drift on a CSV file drop: a new file whose header changed, under each handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import run_cli
from tests.integration.drift_estate import change_facts, hub_query, run

OLD = "id,last,dept\n1,Koval,sales\n2,Bondar,stock\n"
NEW = "id,last,dept,Diagnosis\n3,Shevchuk,sales,J45.0\n4,Tkachenko,hr,E11\n"


def _drop(folder: Path, handling: str) -> Path:
    (folder / "drop").mkdir(parents=True)
    (folder / "drop" / "staff_1.csv").write_text(OLD)
    config = {
        "systems": {"hr": {"type": "files", "path": "drop", "streams": {"staff": {"pattern": "staff_*.csv"}}}},
        "mappings": {"hr_staff": {"system": "hr", "stream": "staff", "target": "employee", "key": "id",
                                  "fields": {"employee_number": "id", "name.last": "last"}}},
        "pipelines": {"staff_in": {"kind": "ingest", "mapping": "hr_staff", "schema_changes": handling}},
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _employees(folder: Path) -> int:
    return hub_query(folder, "SELECT count(*) FROM employee")[0][0]


def _second_file(folder: Path) -> None:
    (folder / "drop" / "staff_2.csv").write_text(NEW)


@pytest.mark.parametrize("handling", ["evolve", "freeze", "quarantine"])
def test_a_file_whose_header_changed_is_handled_as_the_pipeline_says(tmp_path: Path, handling: str):
    folder = _drop(tmp_path / "estate", handling)
    assert run(folder)["staff_in"].status == "succeeded" and _employees(folder) == 2
    _second_file(folder)

    done = run_cli("-p", str(folder), "sync", "staff_in", "--json")

    [result] = json.loads(done.stdout)
    assert change_facts(folder) == [("added", "Diagnosis", handling, "medical")]
    quarantined = hub_query(folder, "SELECT position, reason FROM quarantine ORDER BY position")
    if handling == "evolve":
        assert done.returncode == 0 and _employees(folder) == 4 and quarantined == []
    elif handling == "freeze":
        assert done.returncode == 1 and result["status"] == "failed"
        assert "system 'hr' stream 'staff'" in result["error"] and "added Diagnosis" in result["error"]
        assert _employees(folder) == 2 and quarantined == []
        assert hub_query(folder, "SELECT count(*) FROM checkpoint WHERE cursor LIKE '%staff_2%'") == [(0,)]
    else:
        assert done.returncode == 0 and result["records_quarantined"] == 2 and _employees(folder) == 2
        reason = "schema drift: added Diagnosis (schema_changes: quarantine)"
        assert [r for _, r in quarantined] == [reason, reason]
        assert all("staff_2.csv" in position for position, _ in quarantined)
        # The file is read: the next run does not quarantine its rows again.
        again = run(folder)["staff_in"]
        assert again.metrics.records_read == 0 and len(hub_query(folder, "SELECT id FROM quarantine")) == 2
    [(action, detail)] = hub_query(folder, "SELECT action, detail FROM audit WHERE action LIKE 'schema.%'")
    assert action == "schema.special_category"
    assert json.loads(detail) == {"system": "hr", "stream": "staff", "pipeline": "staff_in", "column": "Diagnosis",
                                  "class": "medical", "change": "added", "handling": handling}
