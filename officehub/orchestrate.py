"""What an orchestrator (Airflow) needs from officehub: one plain function per job.

``pipeline_specs`` says which DAGs to build (schedule, assets, pool, queue), ``pool_specs`` which
pools to create, and ``run`` runs one pipeline and either returns its figures or raises a typed
error. Nothing here imports Airflow, so officehub stays usable, and importable, without it; the
DAG file in ``dags/`` turns these plain values into Airflow objects.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.config import Project, load_project
from officehub.engine import lineage, open_store, run_pipeline
from officehub.engine.references import references_of
from officehub.engine.replay import replay, waiting_for_references
from officehub.mapping import InboundMapping
from officehub.store.hub import HubStore

#: Env var (and Airflow Variable) naming the project's officehub.yaml or its folder.
CONFIG_VARIABLE = "OFFICEHUB_CONFIG"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSpec:
    """How one pipeline is scheduled and where it runs; plain values, no Airflow types."""

    name: str
    kind: str
    dag_id: str
    description: str
    system: str
    entity: str
    schedule: str | None
    produces: tuple[str, ...]
    consumes: tuple[str, ...]
    pool: str
    queue: str | None


@dataclass(frozen=True)
class PoolSpec:
    """An Airflow pool guarding one system: never more tasks at once than it has connections."""

    name: str
    slots: int
    description: str


def asset_uri(hub: str, entity: str) -> str:
    """The asset that stands for the hub's copy of one canonical entity."""
    return f"officehub://{hub}/{entity}"


def pool_name(hub: str, system: str) -> str:
    """The pool of one system; named by hub too, so two hubs' systems never share one."""
    return f"officehub.{hub}.{system}"


def pipeline_specs(config_path: str | Path) -> list[PipelineSpec]:
    """Every configured pipeline as a DAG description, ingests first (the project's order).

    Pipelines that read from an ``api`` system are not scheduled: each submission through the
    hub API runs its pipeline at once (``officehub serve``), one run at a time.
    """
    project = load_project(config_path)
    return [_spec(project, name) for name in project.pipelines_in_order() if not _submitted(project, name)]


def _submitted(project: Project, name: str) -> bool:
    """Whether pipeline ``name`` reads what applications submit through the hub API."""
    system = project.config.mappings[project.config.pipelines[name].mapping].system
    return project.config.systems[system].type == "api"


def _spec(project: Project, name: str) -> PipelineSpec:
    pipeline = project.config.pipelines[name]
    mapping = project.config.mappings[pipeline.mapping]
    asset = (asset_uri(project.name, mapping.entity),)
    ingest = pipeline.kind == "ingest"
    # An ingest whose rows refer to other entities runs again when those arrive: the rows
    # that waited for them in the quarantine are stored then (see run).
    referenced = tuple(asset_uri(project.name, entity) for entity in _referenced_entities(project, name))
    return PipelineSpec(
        name=name, kind=pipeline.kind, dag_id=f"{project.name}.{name}",
        description=pipeline.description or f"{pipeline.kind} {mapping.system}/{mapping.stream} ({mapping.target})",
        system=mapping.system, entity=mapping.entity, schedule=pipeline.schedule,
        produces=asset if ingest else (), consumes=referenced if ingest else asset,
        pool=pool_name(project.name, mapping.system), queue=pipeline.site,
    )


def _referenced_entities(project: Project, name: str) -> list[str]:
    """The other entities an ingest pipeline's mapping refers to, in field order."""
    pipeline = project.config.pipelines[name]
    mapping = project.config.mappings[pipeline.mapping]
    if pipeline.kind != "ingest":
        return []
    found = [ref.entity for ref in references_of(InboundMapping(mapping, pipeline.mapping))]
    return [entity for entity in dict.fromkeys(found) if entity != mapping.entity]


@dataclass(frozen=True)
class ExchangeSpec:
    """The scheduled exchange of bundles with one peer site; plain values, no Airflow types."""

    peer: str
    dag_id: str
    description: str
    schedule: str | None
    pool: str
    queue: str | None


def exchange_specs(config_path: str | Path) -> list[ExchangeSpec]:
    """One exchange DAG per peer site this hub reaches over SFTP, run on this site's queue (``sites.name``)."""
    project = load_project(config_path)
    specs = []
    for peer, system in project.config.systems.items():
        settings = system.connector_settings()
        if system.type != "site" or not settings.get("sftp"):
            continue
        specs.append(ExchangeSpec(
            peer=peer, dag_id=f"{project.name}.site_exchange.{peer}",
            description=f"send bundles to site {peer} over SFTP and apply its acknowledgements",
            schedule=settings.get("exchange_schedule", "*/5 * * * *"), pool=pool_name(project.name, peer),
            queue=project.config.sites.name))
    return specs


def exchange(config_path: str | Path, peer: str) -> dict[str, int | str | float | None]:
    """Exchange bundles with ``peer``; its figures, or RetriableError / FatalError (the outbox keeps every bundle)."""
    # Imported here: the exchange needs paramiko, and the DAG file must parse without it.
    from officehub.sites.service import exchange_with

    result = exchange_with(load_project(config_path), peer).as_dict()
    log.info("officehub site exchange %s: %s", peer,
             " ".join(f"{k}={v}" for k, v in result.items() if isinstance(v, (int, float)) and k != "peer"))
    return result


@dataclass(frozen=True)
class AlertsSpec:
    """The scheduled check of the project's alert rules; plain values, no Airflow types."""

    dag_id: str
    schedule: str
    queue: str | None


def alerts_spec(config_path: str | Path) -> AlertsSpec | None:
    """The alerts DAG (``officehub.services.alerts.check_project`` on a cron), when any rule is configured."""
    project = load_project(config_path)
    alerts = project.config.alerts
    if not alerts.configured:
        return None
    return AlertsSpec(dag_id=f"{project.name}.alerts", schedule=alerts.schedule, queue=project.config.sites.name)


def pool_specs(config_path: str | Path) -> list[PoolSpec]:
    """One pool per configured system (but ``api`` ones, whose runs are not scheduled), sized by its
    ``max_connections``."""
    project = load_project(config_path)
    return [PoolSpec(pool_name(project.name, name), system.max_connections,
                     f"officehub: at most {system.max_connections} concurrent runs against {name}")
            for name, system in project.config.systems.items() if system.type != "api"]


def pools_import_json(config_path: str | Path) -> str:
    """The pools in the JSON shape ``airflow pools import FILE`` reads."""
    pools = {p.name: {"slots": p.slots, "description": p.description, "include_deferred": False}
             for p in pool_specs(config_path)}
    return json.dumps(pools, indent=2, sort_keys=True)


def run(config_path: str | Path, pipeline: str) -> dict[str, int | str | float]:
    """Run one pipeline; return its figures, or raise RetriableError / FatalError if it failed.

    Bad records do not fail the run: they are quarantined and counted. The run is on record in
    the hub store either way, as with ``officehub sync``.
    """
    project = load_project(config_path)
    if pipeline not in project.config.pipelines:
        raise FatalError(f"unknown pipeline '{pipeline}' (configured: {', '.join(project.config.pipelines)})")
    refers = bool(_referenced_entities(project, pipeline))
    store = open_store(project)
    try:
        with lineage.under_parent(_airflow_task_run()):
            result = run_pipeline(project, store, pipeline)
        stored_late = _replay_waiting(project, store, pipeline) if refers and result.status == "succeeded" else 0
    finally:
        store.close()
    figures = {"pipeline": pipeline, "kind": result.kind, "run_id": result.run_id, "status": result.status,
               "seconds": round(result.seconds, 3), **_short_metrics(asdict(result.metrics))}
    if refers:
        figures["stored_late"] = stored_late
    # Counts only: an error's text is built to carry no record value or secret (see officehub.canonical_model.errors).
    log.info("officehub %s %s: %s", result.kind, pipeline,
             " ".join(f"{k}={v}" for k, v in figures.items() if isinstance(v, int) and k != "run_id"))
    if result.status != "succeeded":
        raise _error_for(result.exit_code, f"pipeline {pipeline} (run {result.run_id}) failed: {result.error}")
    return figures


def _airflow_task_run() -> lineage.ParentRun | None:
    """The Airflow task this run is part of, named as Airflow's OpenLineage provider names its run (the same
    deterministic run id), so a lineage backend shows the pipeline's run under the task's; None outside a task."""
    try:
        from airflow.providers.openlineage.plugins import macros
        from airflow.sdk import get_current_context

        task = get_current_context()["ti"]
        return lineage.ParentRun(macros.lineage_job_namespace(), macros.lineage_job_name(task),
                                 macros.lineage_run_id(task))
    except Exception:  # noqa: BLE001 - not in a task, or no provider: the events go without a parent
        return None


def _replay_waiting(project: Project, store: HubStore, pipeline: str) -> int:
    """Replay the rows of ``pipeline`` that waited for a record they refer to; how many are stored now."""
    with store.begin() as conn:
        items = waiting_for_references(conn, pipeline)
    if not items:
        return 0
    done = replay(project, store, items)[0]
    return done.result.metrics.records_read - done.result.metrics.records_quarantined - done.superseded


def _short_metrics(metrics: dict[str, int]) -> dict[str, int]:
    """``records_read`` → ``read``: the names the CLI's summary table uses."""
    return {key.removeprefix("records_").removeprefix("fields_"): value for key, value in metrics.items()}


def _error_for(exit_code: int, message: str) -> OfficehubError:
    # Only a failure officehub classed as transient is worth a retry; anything else needs a person.
    if exit_code == RetriableError.exit_code:
        return RetriableError(message)
    return FatalError(message)


def _main(argv: list[str]) -> int:
    """``python -m officehub.orchestrate pools [CONFIG]``: print the pools for ``airflow pools import``."""
    if not argv or argv[0] != "pools" or len(argv) > 2:
        print("usage: python -m officehub.orchestrate pools [CONFIG]", file=sys.stderr)
        return 64
    config = argv[1] if len(argv) == 2 else os.environ.get(CONFIG_VARIABLE, ".")
    try:
        print(pools_import_json(config))
    except OfficehubError as exc:
        print(f"error: {exc.describe()}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
