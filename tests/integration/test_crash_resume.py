"""A sync killed with SIGKILL mid-run, then re-run, ends exactly where an uninterrupted sync ends."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import canonical_names, folder_files, named, named_files, sync_all, table_rows
from tests.integration.fault_points import BOOKKEEPING, VOLATILE

CUSTOMERS = 15_000  # ~75 batches of 200: a wide window to land the kill in

pytestmark = pytest.mark.slow


def _progress(folder: Path, pipeline: str) -> tuple[str, int] | None:
    db = folder / ".officehub" / "hub.db"
    if not db.exists():
        return None
    con = sqlite3.connect(db, timeout=5)
    try:
        row = con.execute("SELECT status, records_read FROM run WHERE pipeline = ? ORDER BY id DESC LIMIT 1",
                          (pipeline,)).fetchone()
    except sqlite3.OperationalError:  # schema not created yet
        row = None
    finally:
        con.close()
    return row


def _kill_during(folder: Path, pipeline: str, after_rows: int) -> None:
    """Start `officehub sync --all` and SIGKILL it once ``pipeline`` has read ``after_rows``."""
    proc = subprocess.Popen([sys.executable, "-m", "officehub", "-p", str(folder), "sync", "--all"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            state = _progress(folder, pipeline)
            if state and state[0] == "running" and state[1] >= after_rows:
                proc.kill()
                break
            assert proc.poll() is None, "the sync finished before it could be killed"
            time.sleep(0.005)
        else:
            pytest.fail(f"{pipeline} never reached {after_rows} rows")
    finally:
        proc.kill()
        proc.wait()
    status, read = _progress(folder, pipeline)
    assert status == "running" and read < CUSTOMERS, "the kill did not land mid-run"


def _state(folder: Path) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]], dict[str, bytes]]:
    """The hub store, the reporting database and the payroll files, canonical ids named by their sources."""
    hub = f"sqlite:///{folder / '.officehub' / 'hub.db'}"
    names = canonical_names(hub)
    tables = table_rows(hub, ignore=VOLATILE)
    for bookkeeping in BOOKKEEPING:
        tables.pop(bookkeeping)
    return (named(tables, names), named(table_rows(f"sqlite:///{folder / 'out' / 'reporting.db'}"), names),
            named_files(folder_files(folder / "out" / "payroll"), names))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from officehub.demo.seed import seed_estate
    from tests.conftest import copy_demo_config

    folder = copy_demo_config(tmp_path_factory.mktemp("reference"))
    seed_estate(folder / "data", customers=CUSTOMERS)
    assert {r.status for r in sync_all(folder).values()} == {"succeeded"}
    return folder


@pytest.mark.parametrize(("pipeline", "after_rows"), [
    ("crm_customers_in", 4_000),        # mid-ingest: hub-store transactions cut short
    ("reporting_customers_out", 4_000),  # mid-publish: destination written, checkpoint maybe not
])
def test_killed_sync_resumes_to_the_same_result(reference: Path, demo_project, pipeline: str, after_rows: int):
    crashed = demo_project(f"crashed-{pipeline}", customers=CUSTOMERS)
    _kill_during(crashed, pipeline, after_rows)

    results = sync_all(crashed)

    assert {r.status for r in results.values()} == {"succeeded"}
    hub, reporting, payroll = _state(crashed)
    expected_hub, expected_reporting, expected_payroll = _state(reference)
    assert hub == expected_hub
    assert reporting == expected_reporting
    assert payroll == expected_payroll


def test_the_killed_run_is_marked_interrupted_by_the_next_one(demo_project):
    from officehub.config import load_project
    from officehub.engine import open_store
    from officehub.store import bookkeeping as bk

    folder = demo_project("interrupted", customers=CUSTOMERS)
    _kill_during(folder, "crm_customers_in", 1_000)
    sync_all(folder)
    store = open_store(load_project(folder))
    with store.begin() as conn:
        statuses = [r["status"] for r in bk.list_runs(conn, "crm_customers_in")]
    store.close()
    assert statuses == ["succeeded", "interrupted"]
