"""The DAG file builds one correct DAG per pipeline of the project it is pointed at."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from officehub.canonical_model.errors import FatalError, RetriableError
from tests.conftest import DEMO, copy_demo_config
from tests.dags.conftest import DAGS_FOLDER

DAG_FILE = str(DAGS_FOLDER / "officehub_dags.py")

#: The demo estate as Airflow should see it: pipeline → (schedule, canonical entity, system).
INGESTS = {
    "crm_customers_in": ("*/15 * * * *", "customer", "crm"),
    "hr_employees_in": ("0 * * * *", "employee", "hr"),
    "hr_background_in": ("5 * * * *", "employee", "hr"),
    "hr_litigation_in": ("5 * * * *", "employee", "hr"),
    "hr_sick_leave_in": ("5 * * * *", "employee", "hr"),
    "hr_garnishments_in": ("5 * * * *", "employee", "hr"),
    "inventory_items_in": ("30 2 * * *", "product", "inventory"),
    "inventory_stock_in": ("35 2 * * *", "product", "inventory"),
    "accounting_debtors_in": ("20 * * * *", "customer", "accounting"),
    "accounting_suppliers_in": ("25 * * * *", "supplier", "accounting"),
    "accounting_invoices_in": ("25 * * * *", "invoice", "accounting"),
    "quality_lots_in": ("40 2 * * *", "product_lot", "quality"),
    "quality_inspections_in": ("45 * * * *", "inspection", "quality"),
}
#: Ingests whose rows refer to other entities: they also run when those were ingested.
REFERRING = {"accounting_invoices_in": ["customer"], "quality_lots_in": ["product"],
             "quality_inspections_in": ["product_lot", "employee"]}
PUBLISHES = {
    "payroll_employees_out": ("employee", "payroll"),
    "reporting_customers_out": ("customer", "reporting"),
    "reporting_employees_out": ("employee", "reporting"),
    "reporting_products_out": ("product", "reporting"),
    "accounting_debtors_out": ("customer", "accounting"),
    "crm_customers_out": ("customer", "crm"),
    "reporting_invoices_out": ("invoice", "reporting"),
    "reporting_inspections_out": ("inspection", "reporting"),
}


def with_sites(folder: Path, sites: dict[str, str]) -> Path:
    """Put ``site: X`` on the named pipelines of a copied demo config."""
    pipelines = folder / "pipelines.yaml"
    text = pipelines.read_text(encoding="utf-8")
    for name, site in sites.items():
        text, found = re.subn(rf"^(\s*{name}:\s*{{)", rf"\g<1>site: {site}, ", text, flags=re.M)
        assert found == 1, name
    pipelines.write_text(text, encoding="utf-8")
    return folder


def test_every_demo_pipeline_is_a_dag_with_its_schedule_pool_and_one_task(dagbag):
    bag = dagbag()  # no OFFICEHUB_CONFIG: the demo estate
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {f"demo.{name}" for name in [*INGESTS, *PUBLISHES]}
    for name, (cron, entity, system) in INGESTS.items():
        dag = bag.get_dag(f"demo.{name}")
        (task,) = dag.tasks
        assert task.task_id == "ingest"
        if name in REFERRING:
            assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
            assert dag.timetable.timetable.expression == cron
            assert [a.uri for a in dag.timetable.asset_condition.objects] == \
                [f"officehub://demo/{entity}" for entity in REFERRING[name]]
        else:
            assert type(dag.timetable).__name__ == "CronTriggerTimetable"
            assert dag.timetable.expression == cron
        assert [a.uri for a in task.outlets] == [f"officehub://demo/{entity}"]
        assert task.pool == f"officehub.demo.{system}"
        assert task.op_kwargs == {"config_path": str(DEMO), "pipeline": name}
    for name, (entity, system) in PUBLISHES.items():
        dag = bag.get_dag(f"demo.{name}")
        (task,) = dag.tasks
        assert task.task_id == "publish"
        assert [a.uri for a in dag.timetable.asset_condition.objects] == \
            [f"officehub://demo/{entity}"]
        assert task.outlets == []
        assert task.pool == f"officehub.demo.{system}"


def test_every_dag_runs_alone_without_catchup_and_backs_off_exponentially(dagbag):
    for dag in dagbag().dags.values():
        (task,) = dag.tasks
        assert (dag.catchup, dag.max_active_runs) == (False, 1)
        assert task.retries == 4 and task.retry_exponential_backoff == 2.0
        assert task.retry_delay == timedelta(minutes=1) and task.max_retry_delay == timedelta(minutes=30)
        assert task.queue == "default"  # no site in the demo


def test_only_retriable_errors_are_retried(dagbag):
    from airflow.sdk.definitions.retry_policy import RetryAction

    policy = dagbag().get_dag("demo.crm_customers_in").tasks[0].retry_policy
    decide = lambda exc: policy.evaluate(exc, try_number=1, max_tries=5).action  # noqa: E731
    assert decide(RetriableError("lock timeout", system="crm")) == RetryAction.DEFAULT  # → backoff + retry
    assert decide(FatalError("login refused", system="crm")) == RetryAction.FAIL
    assert decide(ValueError("a bug")) == RetryAction.FAIL


def test_a_site_routes_its_pipeline_to_that_sites_queue(dagbag, tmp_path):
    folder = with_sites(copy_demo_config(tmp_path / "estate"), {"hr_employees_in": "kyiv"})
    bag = dagbag(folder)
    assert bag.import_errors == {}
    assert bag.get_dag("demo.hr_employees_in").tasks[0].queue == "kyiv"
    assert bag.get_dag("demo.hr_sick_leave_in").tasks[0].queue == "default"
    assert bag.get_dag("demo.hr_employees_in").tasks[0].op_kwargs["config_path"] == str(folder)


def test_the_config_path_can_come_from_an_airflow_variable(dagbag, tmp_path, monkeypatch):
    # Parsed outside a dag-processor there is no metastore access, so the Variable comes from
    # Airflow's env-var secrets backend here; the scale-out test sets it in the metastore.
    folder = copy_demo_config(tmp_path / "estate")
    (folder / "officehub.yaml").write_text(
        (folder / "officehub.yaml").read_text(encoding="utf-8").replace("name: demo", "name: branch"), encoding="utf-8")
    monkeypatch.setenv("AIRFLOW_VAR_OFFICEHUB_CONFIG", str(folder))
    bag = dagbag()
    assert "branch.crm_customers_in" in bag.dag_ids
    assert bag.get_dag("branch.crm_customers_in").tasks[0].outlets[0].uri == "officehub://branch/customer"


def test_a_publish_with_a_cron_runs_on_new_data_or_on_time(dagbag, tmp_path):
    folder = copy_demo_config(tmp_path / "estate")
    pipelines = folder / "pipelines.yaml"
    pipelines.write_text(pipelines.read_text(encoding="utf-8").replace(
        "reporting_products_out:    {", 'reporting_products_out:    {schedule: "0 6 * * *", '), encoding="utf-8")
    timetable = dagbag(folder).get_dag("demo.reporting_products_out").timetable
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    assert timetable.timetable.expression == "0 6 * * *"


def test_an_ingest_that_refers_to_another_entity_also_runs_when_that_one_was_ingested(dagbag, tmp_path):
    import yaml

    from tests.integration.test_references import _estate

    folder = _estate(tmp_path / "estate")
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["pipelines"]["invoices_in"]["schedule"] = "0 * * * *"
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    bag = dagbag(folder)
    hub = bag.dag_ids[0].split(".")[0]
    invoices = bag.get_dag(f"{hub}.invoices_in")
    assert type(invoices.timetable).__name__ == "AssetOrTimeSchedule"
    assert invoices.timetable.timetable.expression == "0 * * * *"
    assert f"officehub://{hub}/customer" in str(invoices.timetable.asset_condition)
    # The customers' own ingest produces that asset and runs on its cron alone.
    clients = bag.get_dag(f"{hub}.clients_in")
    assert [outlet.uri for outlet in clients.tasks[0].outlets] == [f"officehub://{hub}/customer"]
    assert type(clients.timetable).__name__ != "AssetOrTimeSchedule"


def test_a_broken_config_is_an_import_error_that_names_the_problem(dagbag, tmp_path):
    folder = copy_demo_config(tmp_path / "estate")
    (folder / "pipelines.yaml").write_text("pipelines:\n  x: {kind: ingest, mapping: nope}\n", encoding="utf-8")
    bag = dagbag(folder)
    assert bag.dag_ids == []
    (error,) = bag.import_errors.values()
    assert "unknown mapping 'nope'" in error


def test_pools_are_sized_by_max_connections():
    from officehub.orchestrate import pool_specs, pools_import_json

    assert {p.name: p.slots for p in pool_specs(DEMO)} == {
        "officehub.demo.crm": 2, "officehub.demo.hr": 2, "officehub.demo.inventory": 4,
        "officehub.demo.payroll": 4, "officehub.demo.reporting": 4, "officehub.demo.accounting": 2,
        "officehub.demo.quality": 2,
    }
    assert json.loads(pools_import_json(DEMO))["officehub.demo.hr"]["slots"] == 2


@pytest.mark.parametrize("module", ["officehub", "officehub.orchestrate", "officehub.connectors.secrets"])
def test_officehub_does_not_import_airflow(module):
    import subprocess
    import sys

    code = f"import sys, {module}; sys.exit(1 if any(m.split('.')[0] == 'airflow' for m in sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
