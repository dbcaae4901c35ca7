"""No special-category value leaves through schema drift: sentinels seeded in new "diagnosis" and "судимість"
columns appear in no CLI output, log, audit entry, drift record or destination, under every handling."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import run_cli, table_rows
from tests.integration.drift_estate import build, execute, hub_query

SENTINELS = ("SNTL-MED-DRIFT-7731", "SNTL-CRIM-DRIFT-4410")
#: Hub tables that hold names, ids, counts and reasons only (quarantine: its raw rows are the hub's own, shown
#: only on an audited reveal, so only its reason and position are scanned).
SCANNED = {"audit": "*", "schema_change": "*", "stream_schema": "*", "run": "*", "quarantine": "reason, position"}


def _drifted(folder: Path, handling: str) -> Path:
    url = f"sqlite:///{folder / 'hr.db'}"
    build(folder, url, handling=handling)
    assert run_cli("-p", str(folder), "sync", "--all").returncode == 0
    execute(url, "ALTER TABLE staff ADD diagnosis VARCHAR(100)", 'ALTER TABLE staff ADD "судимість" VARCHAR(100)',
            f"UPDATE staff SET diagnosis = '{SENTINELS[0]}', \"судимість\" = '{SENTINELS[1]}', last = last || 'a'")
    return folder


def _leaks(text: str) -> list[str]:
    return [s for s in SENTINELS if s in text]


@pytest.mark.parametrize("handling", ["evolve", "freeze", "quarantine"])
def test_no_sentinel_in_any_output_log_audit_entry_or_destination(tmp_path: Path, handling: str):
    folder = _drifted(tmp_path / "estate", handling)
    p = ("-p", str(folder))
    calls = [("--debug", "-v", *p, "sync", "--all", "--json"), (*p, "sync", "--all"), (*p, "drift"), (*p, "drift", "--json"),
             (*p, "drift", "--system", "hr", "--stream", "staff", "--since", "1"), (*p, "audit", "list", "--json"),
             (*p, "audit", "list"), (*p, "runs", "--json"), (*p, "quarantine", "list", "--json")]
    outputs = []
    for args in calls:
        done = run_cli(*args)
        assert done.returncode in (0, 1), (args, done.stderr)
        outputs.append((args, done.stdout + done.stderr))
    for (item,) in hub_query(folder, "SELECT id FROM quarantine"):
        outputs.append((("quarantine", "show"), run_cli(*p, "quarantine", "show", str(item)).stdout))

    assert [(args, _leaks(text)) for args, text in outputs if _leaks(text)] == []
    # The drift was seen, and compliance told of both columns by class.
    assert "diagnosis" in outputs[2][1] and "medical" in outputs[2][1] and "criminal" in outputs[2][1]
    con = sqlite3.connect(folder / ".officehub" / "hub.db")
    try:
        for table, columns in SCANNED.items():
            rows = con.execute(f"SELECT {columns} FROM {table}").fetchall()
            assert _leaks(json.dumps(rows, ensure_ascii=False, default=str)) == [], table
        classes = {json.loads(d)["class"] for (d,) in con.execute(
            "SELECT detail FROM audit WHERE action = 'schema.special_category'")}
    finally:
        con.close()
    assert classes == {"medical", "criminal"}
    destination = table_rows(f"sqlite:///{folder / 'out' / 'reporting.db'}")
    assert destination["employees"] and _leaks(json.dumps(destination, ensure_ascii=False)) == []
