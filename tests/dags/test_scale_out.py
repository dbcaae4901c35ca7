"""Scale-out for real: a DAG triggered through REST API v2 runs on a Celery worker of its site.

api-server, scheduler, dag-processor and one ``airflow celery worker`` run as separate processes
with a Redis broker and a fresh PostgreSQL metadata database, the way docker/compose.yaml runs
them. The project comes from the ``OFFICEHUB_CONFIG`` Airflow Variable (in the metastore), the
pools from ``python -m officehub.orchestrate pools`` + ``airflow pools import``.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import uuid
from pathlib import Path

import pytest

from tests.conftest import copy_demo_config, service_unavailable
from tests.dags.airflow_stack import Api, Stack, free_port, wait_for
from tests.dags.conftest import DAGS_FOLDER, require_airflow
from tests.dags.test_dagbag import with_sites
from tests.helpers import folder_files
from tests.integration.test_demo_estate import SPECIAL_COLUMNS, _special_values

pytestmark = pytest.mark.slow

INGEST, PUBLISH = "demo.hr_employees_in", "demo.payroll_employees_out"
PASSWORD = "test-" + secrets.token_hex(8)


@pytest.fixture
def redis_url() -> str:
    """The loopback Redis, as the Celery broker."""
    require_airflow()
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=3).ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", exc)
    return "redis://127.0.0.1:6379/0"


def _environment(home: Path, metadata_db: str, broker: str, api_port: int) -> dict[str, str]:
    import os

    # Nothing of this test process's own Airflow settings (tests/dags/conftest.py) leaks in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "OFFICEHUB_CONFIG"}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        # psycopg 3 does async too, so no asyncpg is needed for the API server.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_db,
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_db,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    })
    return env


def _wait_for_success(api: Api, stack: Stack, dag_id: str, run_id: str, timeout: float = 120) -> dict:
    def finished():
        stack.check_alive()
        run = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return run if run["state"] in ("success", "failed") else None

    run = wait_for(f"{dag_id} run {run_id}", finished, timeout, every=1)
    assert run["state"] == "success", f"{dag_id} failed; worker log:\n{stack.tail('worker')}"
    return run


def _task_instance(api: Api, dag_id: str, run_id: str) -> dict:
    (ti,) = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
    return ti


def _return_value(api: Api, dag_id: str, run_id: str, task_id: str) -> dict:
    entry = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value")
    value = entry["value"]
    return json.loads(value) if isinstance(value, str) else value


def test_a_triggered_dag_runs_on_its_sites_celery_worker(tmp_path, postgres_url, redis_url):
    from officehub.demo.seed import seed_estate
    from officehub.orchestrate import pools_import_json

    site = f"site{uuid.uuid4().hex[:8]}"  # a queue of our own on the shared Redis
    folder = with_sites(copy_demo_config(tmp_path / "estate"), {"hr_employees_in": site, "payroll_employees_out": site})
    # Unpausing a cron DAG starts its latest scheduled run at once; without the cron, ours is the only run.
    pipelines, cron = folder / "pipelines.yaml", 'mapping: hr_employees, schedule: "0 * * * *"'
    assert cron in pipelines.read_text(encoding="utf-8")
    pipelines.write_text(pipelines.read_text(encoding="utf-8").replace(cron, "mapping: hr_employees"), encoding="utf-8")
    seed = seed_estate(folder / "data", customers=20, employees=40, products=10)
    home = tmp_path / "airflow"
    home.mkdir()
    api_port = free_port()
    stack = Stack(home, _environment(home, postgres_url, redis_url, api_port))

    stack.cli("db", "migrate", timeout=180)
    (home / "pools.json").write_text(pools_import_json(folder), encoding="utf-8")
    stack.cli("pools", "import", str(home / "pools.json"))
    stack.cli("variables", "set", "OFFICEHUB_CONFIG", str(folder))
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": PASSWORD}))

    stack.start("api-server", "api-server")
    stack.start("scheduler", "scheduler")
    stack.start("dag-processor", "dag-processor")
    stack.start("worker", "celery", "worker", "--queues", site, "--skip-serve-logs")
    try:
        api = Api(f"http://127.0.0.1:{api_port}")
        wait_for("the API server", lambda: stack.check_alive() or api.healthy(), 60)
        api.login("admin", PASSWORD)
        wait_for("the DAGs to be parsed",
                 lambda: stack.check_alive() or (api.get_or_none(f"/api/v2/dags/{INGEST}")
                                                 and api.get_or_none(f"/api/v2/dags/{PUBLISH}")), 90)
        for dag_id in (INGEST, PUBLISH):
            api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        assert api.call("GET", "/api/v2/pools/officehub.demo.hr")["slots"] == 2

        run = api.call("POST", f"/api/v2/dags/{INGEST}/dagRuns", {"logical_date": None})
        _wait_for_success(api, stack, INGEST, run["dag_run_id"])
        ti = _task_instance(api, INGEST, run["dag_run_id"])
        assert (ti["queue"], ti["pool"], ti["try_number"]) == (site, "officehub.demo.hr", 1)
        figures = _return_value(api, INGEST, run["dag_run_id"], "ingest")
        assert figures["written"] == seed.employees - seed.dirty["hr.employees"]
        log = api.call("GET", f"/api/v2/dags/{INGEST}/dagRuns/{run['dag_run_id']}/taskInstances/ingest/logs/1")
        assert "officehub ingest hr_employees_in: read=" in json.dumps(log)

        # The ingest's asset event schedules the publish: no trigger from us.
        published = wait_for(f"an asset-triggered {PUBLISH} run", lambda: stack.check_alive() or [
            r for r in api.call("GET", f"/api/v2/dags/{PUBLISH}/dagRuns")["dag_runs"]
            if r["run_type"] == "asset_triggered"], 60, every=1)
        _wait_for_success(api, stack, PUBLISH, published[0]["dag_run_id"])
        assert _task_instance(api, PUBLISH, published[0]["dag_run_id"])["queue"] == site
        assert [r["run_type"] for r in api.call("GET", f"/api/v2/dags/{INGEST}/dagRuns")["dag_runs"]] == ["manual"]
    finally:
        stack.stop()
    assert stack.groups_alive() == []

    special = _special_values(folder / "data" / "hr.db")
    files = folder_files(folder / "out" / "payroll")
    rows = []
    for payload in files.values():
        header, *body = list(csv.reader(io.StringIO(payload.decode("utf-8")), delimiter=";"))
        assert not set(header) & set(SPECIAL_COLUMNS)
        rows += body
    assert len(rows) == figures["written"]
    assert not {cell for row in rows for cell in row} & special
