"""The demo's DAGs run end to end in-process with ``dag.test()``: data lands, the policy holds."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from officehub.orchestrate import pipeline_specs
from tests.conftest import copy_demo_config
from tests.dags.conftest import DAGS_FOLDER
from tests.helpers import folder_files, table_rows
from tests.integration.test_demo_estate import SPECIAL_COLUMNS, _special_values


def _run(dag_id: str) -> tuple[str, object, dict]:
    """``dag.test()`` one DAG; its run's state, its task instance and the task's return value."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    dag = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag(dag_id)
    run = dag.test()
    (ti,) = run.get_task_instances()
    with create_session() as session:
        row = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run.run_id, key="return_value").one_or_none()
        value = row.value if row else None
    return run.state, ti, json.loads(value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def estate(airflow_home, tmp_path_factory: pytest.TempPathFactory):
    """A seeded demo estate, every ingest DAG run, then every publish DAG (the CLI's order)."""
    from officehub.demo.seed import seed_estate

    folder = copy_demo_config(tmp_path_factory.mktemp("estate"))
    summary = seed_estate(folder / "data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OFFICEHUB_CONFIG", str(folder))
        # Every DAG the factory makes (pipelines of the web shop's api system run on submission, not here).
        runs = {spec.name: _run(spec.dag_id) for spec in pipeline_specs(folder)}
    return folder, summary, runs


def test_every_dag_run_succeeds_and_returns_its_figures(estate):
    _, summary, runs = estate
    assert {name: state for name, (state, _, _) in runs.items()} == dict.fromkeys(runs, "success")
    crm = runs["crm_customers_in"][2]
    assert crm["status"] == "succeeded" and crm["kind"] == "ingest"
    # Bad records are quarantined and counted; they do not fail the task.
    assert crm["quarantined"] == summary.dirty["crm.CUST"] > 0
    assert crm["written"] == summary.customers - summary.dirty["crm.CUST"]
    assert crm["read"] == crm["written"] + crm["unchanged"] + crm["quarantined"]
    assert runs["payroll_employees_out"][2]["redacted"] > 0
    assert all(ti.try_number == 1 for _, ti, _ in runs.values())


def test_ingest_dags_emit_one_asset_event_per_run(estate):
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = [(e.asset.uri, e.source_dag_id) for e in session.query(AssetEvent)
                  if e.source_dag_id.startswith("demo.")]
    assert sorted(events).count(("officehub://demo/customer", "demo.crm_customers_in")) == 1
    assert {uri for uri, _ in events} == {f"officehub://demo/{entity}" for entity in (
        "customer", "employee", "product", "supplier", "invoice", "product_lot", "inspection")}
    assert not any(source.endswith("_out") for _, source in events)


def test_the_policy_held_in_the_payroll_drop(estate):
    folder, summary, _ = estate
    special = _special_values(folder / "data" / "hr.db")
    files = folder_files(folder / "out" / "payroll")
    assert files
    rows_total = 0
    for name, payload in files.items():
        header, *rows = list(csv.reader(io.StringIO(payload.decode("utf-8")), delimiter=";"))
        rows_total += len(rows)
        assert not set(header) & set(SPECIAL_COLUMNS), name
        assert not {cell for row in rows for cell in row} & special, name
    assert rows_total == summary.employees - summary.dirty["hr.employees"]


def test_the_policy_held_in_the_reporting_database(estate):
    folder, summary, _ = estate
    special = _special_values(folder / "data" / "hr.db")
    tables = table_rows(f"sqlite:///{folder / 'out' / 'reporting.db'}")
    identity = summary.identity
    assert len(tables["customers"]) == \
        summary.customers - summary.dirty["crm.CUST"] + len(identity.new) + len(identity.review)
    assert len(tables["products"]) == summary.products - summary.dirty["inventory.items"]
    assert not {v for rows in tables.values() for row in rows for v in row} & special
    con = sqlite3.connect(folder / "out" / "reporting.db")
    columns = {r[1] for r in con.execute("PRAGMA table_info(employees)")}
    con.close()
    assert not columns & set(SPECIAL_COLUMNS)


def _with_airflow_key(folder: Path) -> Path:
    """The hub's pseudonymisation key taken from Airflow connection ``officehub_demo_key``."""
    config = folder / "officehub.yaml"
    text = config.read_text(encoding="utf-8")
    assert "demo-2026: {file: keys/demo-2026.key}" in text
    config.write_text(text.replace("demo-2026: {file: keys/demo-2026.key}", "demo-2026: {airflow: officehub_demo_key}"),
                      encoding="utf-8")
    return folder


def test_a_fatal_error_fails_at_once_and_an_airflow_connection_fixes_it(airflow_home, tmp_path, monkeypatch, caplog):
    from officehub.demo.seed import seed_estate

    folder = _with_airflow_key(copy_demo_config(tmp_path / "estate"))
    seed_estate(folder / "data", customers=30, employees=5, products=5)
    # The SQL connector does not create a SQLite file's folder; in the full demo payroll makes out/ first.
    (folder / "out").mkdir()
    monkeypatch.setenv("OFFICEHUB_CONFIG", str(folder))
    monkeypatch.delenv("AIRFLOW_CONN_OFFICEHUB_DEMO_KEY", raising=False)
    assert _run("demo.crm_customers_in")[0] == "success"

    state, ti, value = _run("demo.reporting_customers_out")
    # No retry despite retries=4: a missing connection will not appear by waiting.
    assert (state, ti.state, ti.try_number, value) == ("failed", "failed", 1, None)

    # Resolved on the worker at run time, from Airflow's connections (here its env-var backend).
    key = (folder / "keys" / "demo-2026.key").read_text(encoding="utf-8").strip()
    monkeypatch.setenv("AIRFLOW_CONN_OFFICEHUB_DEMO_KEY", json.dumps({"conn_type": "generic", "password": key}))
    state, _, value = _run("demo.reporting_customers_out")
    assert state == "success" and value["written"] > 0
    rows = table_rows(f"sqlite:///{folder / 'out' / 'reporting.db'}")["customers"]
    assert len(rows) == value["written"]
    assert "officehub publish reporting_customers_out: read=" in caplog.text  # figures in the task log
    assert key not in caplog.text
