"""A project with alert rules gets one more DAG: the alert check on its cron, whose task sends what is owed
(or raises a retriable error when a channel failed, so Airflow tries again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from officehub.canonical_model.errors import RetriableError
from officehub.services.alerts import check_project
from tests.conftest import copy_demo_config
from tests.integration import alert_estate as estate
from tests.integration.alert_servers import free_port, webhook_server

ALERTS = ("alerts:\n  schedule: '*/10 * * * *'\n  channels:\n    ops: {type: webhook, url: 'https://hooks.example.org/x'}\n"
          "  rules:\n    - {id: failed, kind: run_failed, channels: [ops]}\n")


def test_a_project_with_alert_rules_has_an_alerts_dag_on_its_cron(dagbag, tmp_path: Path):
    folder = copy_demo_config(tmp_path / "estate")
    without = dagbag(folder)
    (folder / "officehub.yaml").write_text((folder / "officehub.yaml").read_text() + ALERTS)

    bag = dagbag(folder)

    assert bag.import_errors == {}
    assert "demo.alerts" not in without.dag_ids
    assert set(bag.dag_ids) == set(without.dag_ids) | {"demo.alerts"}
    dag = bag.get_dag("demo.alerts")
    (task,) = dag.tasks
    assert dag.timetable.expression == "*/10 * * * *" and (dag.catchup, dag.max_active_runs) == (False, 1)
    assert task.task_id == "alerts" and task.python_callable is check_project
    assert task.op_kwargs == {"config_path": str(folder)} and task.retries == 4


def test_the_alerts_task_sends_what_is_owed_and_retries_when_a_channel_failed(tmp_path: Path):
    with webhook_server() as hook:
        folder = estate.build(tmp_path / "estate", "sqlite:///.officehub/hub.db", {
            "channels": {"ops": {"type": "webhook", "url": hook.url},
                         "down": {"type": "webhook", "url": f"http://127.0.0.1:{free_port()}/x", "timeout_s": 2}},
            "rules": [{"id": "failed", "kind": "run_failed", "channels": ["ops"]},
                      {"id": "failed-too", "kind": "run_failed", "channels": ["down"]}]})
        estate.write_staff(folder, "001", 30, bad=30)
        estate.run(folder, "staff_in")

        with pytest.raises(RetriableError, match=r"alerts not all sent: channel down: cannot reach the webhook"):
            check_project(folder)
        assert [b["rule"] for b in hook.bodies] == ["failed"]
