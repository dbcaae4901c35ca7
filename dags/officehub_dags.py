"""One Airflow DAG per officehub pipeline, built from the same officehub.yaml the CLI uses.

The project is found through ``OFFICEHUB_CONFIG`` (env var, else the Airflow Variable of that
name), else the demo estate next to this folder. Each DAG has one task that calls
``officehub.orchestrate.run``; everything Airflow needs to know (schedule, assets, pool, queue)
comes from ``officehub.orchestrate.pipeline_specs``. No sync logic lives here.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, Variable
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

from officehub import orchestrate
from officehub.canonical_model.errors import RetriableError

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "demo"

#: Retriable errors (network, locks) back off 1, 2, 4, 8 min; anything else fails at once,
#: because a bad config, a refused login or an expired agreement will not heal by waiting.
RETRIES = 4
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[RetryRule(exception=RetriableError, action=RetryAction.DEFAULT, reason="transient failure")],
    default=RetryAction.FAIL,
)
TASK_ARGS = {
    "retries": RETRIES,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "retry_policy": RETRY_POLICY,
    "execution_timeout": timedelta(hours=6),
}


def config_path() -> str:
    """The project to build DAGs for: env var, else Airflow Variable, else the demo estate."""
    variable = orchestrate.CONFIG_VARIABLE
    return os.environ.get(variable) or Variable.get(variable, default=None) or str(DEMO_CONFIG)


def _schedule(spec: orchestrate.PipelineSpec):
    """Ingests run on their cron; publishes when an ingest produced new data (and on a cron, if set).

    An ingest whose rows refer to other entities also runs when those were ingested, so the
    rows that waited for them are stored then.
    """
    if not spec.consumes:
        return spec.schedule
    assets = [Asset(uri) for uri in spec.consumes]
    if spec.schedule is None:
        return assets
    return AssetOrTimeSchedule(timetable=CronTriggerTimetable(spec.schedule, timezone="UTC"), assets=assets)


def build_dag(spec: orchestrate.PipelineSpec, config: str) -> DAG:
    """The DAG of one pipeline: one task, in its system's pool, on its site's queue."""
    with DAG(
        dag_id=spec.dag_id,
        description=spec.description,
        schedule=_schedule(spec),
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=["officehub", spec.kind, spec.system],
    ) as dag:
        PythonOperator(
            task_id=spec.kind,
            python_callable=orchestrate.run,
            op_kwargs={"config_path": config, "pipeline": spec.name},
            outlets=[Asset(uri) for uri in spec.produces],
            pool=spec.pool,
            **({"queue": spec.queue} if spec.queue else {}),
            **TASK_ARGS,
        )
    return dag


def build_exchange_dag(spec: orchestrate.ExchangeSpec, config: str) -> DAG:
    """The DAG that exchanges bundles with one peer site, on this site's queue."""
    with DAG(
        dag_id=spec.dag_id,
        description=spec.description,
        schedule=spec.schedule,
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=["officehub", "site_exchange", spec.peer],
    ) as dag:
        PythonOperator(
            task_id="exchange",
            python_callable=orchestrate.exchange,
            op_kwargs={"config_path": config, "peer": spec.peer},
            pool=spec.pool,
            **({"queue": spec.queue} if spec.queue else {}),
            **TASK_ARGS,
        )
    return dag


def build_alerts_dag(spec: orchestrate.AlertsSpec, config: str) -> DAG:
    """The DAG that checks the alert rules on their cron and sends what is owed; a channel that failed
    makes the task retry (the messages stay owed until a check sends them)."""
    # Imported here: only a project with alert rules needs the services.
    from officehub.services.alerts import check_project

    with DAG(
        dag_id=spec.dag_id,
        description="check the alert rules and send each new or cleared incident",
        schedule=spec.schedule,
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=["officehub", "alerts"],
    ) as dag:
        PythonOperator(
            task_id="alerts",
            python_callable=check_project,
            op_kwargs={"config_path": config},
            **({"queue": spec.queue} if spec.queue else {}),
            **{**TASK_ARGS, "execution_timeout": timedelta(minutes=10)},
        )
    return dag


_CONFIG = config_path()
for _spec in orchestrate.pipeline_specs(_CONFIG):
    globals()[_spec.dag_id] = build_dag(_spec, _CONFIG)
for _exchange in orchestrate.exchange_specs(_CONFIG):
    globals()[_exchange.dag_id] = build_exchange_dag(_exchange, _CONFIG)
if (_alerts := orchestrate.alerts_spec(_CONFIG)) is not None:
    globals()[_alerts.dag_id] = build_alerts_dag(_alerts, _CONFIG)
