"""A pipeline run by its Airflow task names the task's run as its OpenLineage parent: the same namespace, job
name and deterministic run id that Airflow's OpenLineage provider gives the task's own events."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.dags.conftest import DAGS_FOLDER
from tests.integration import sentinel_estate
from tests.integration.http_receiver import receiver


def test_the_task_run_is_the_parent_of_the_pipeline_run(airflow_home, tmp_path: Path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.openlineage.plugins import macros
    from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter

    with receiver() as backend:
        folder = sentinel_estate.build(tmp_path / "estate")
        config = yaml.safe_load((folder / "officehub.yaml").read_text())
        config["lineage"] = {"url": backend.url, "namespace": "sentinel-hub"}
        (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        monkeypatch.setenv("OFFICEHUB_CONFIG", str(folder))
        dag = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag("sentinel.hr_employees_in")
        run = dag.test()
        (task,) = run.get_task_instances()
        events = [post.json() for post in backend.posts]
    assert run.state == "success"
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    parents = [e["run"]["facets"]["parent"] for e in events]
    # The provider's run id of the task, from the task instance as the database holds it.
    task_run_id = OpenLineageAdapter.build_task_instance_run_id(
        dag_id=task.dag_id, task_id=task.task_id, try_number=task.try_number,
        logical_date=run.logical_date or run.run_after, map_index=task.map_index)
    expected = {"run": {"runId": task_run_id},
                "job": {"namespace": macros.lineage_job_namespace(), "name": f"{task.dag_id}.{task.task_id}"}}
    assert [{"run": {"runId": p["run"]["runId"]},
             "job": {"namespace": p["job"]["namespace"], "name": p["job"]["name"]}} for p in parents] == \
        [expected, expected]
    assert expected["job"]["name"] == "sentinel.hr_employees_in.ingest"
