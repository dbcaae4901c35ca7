"""OpenLineage run events of a pipeline run: START when it begins, COMPLETE or FAIL when it ends.

Events go over OpenLineage's HTTP transport to ``lineage.url`` (or ``OPENLINEAGE_URL``). A backend that
is down or slow never fails a run: a failed send is logged as one warning naming the pipeline, and the
run's later events are dropped, so an unreachable backend costs a run at most one timeout. Events
name datasets, counts, ids and the hub's one-line error, never a record's value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from officehub.canonical_model.errors import OfficehubError
from officehub.config import Project
from officehub.engine.lineage.datasets import hub_dataset, system_dataset

#: Who produced the events and facets (OpenLineage's ``producer``: a URI naming the producing software).
PRODUCER = "https://github.com/officehub/officehub"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParentRun:
    """The run that started this one (an Airflow task), as OpenLineage names it."""

    namespace: str
    job: str
    run_id: str


_PARENT: ContextVar[ParentRun | None] = ContextVar("officehub_lineage_parent", default=None)


@contextmanager
def under_parent(parent: ParentRun | None) -> Iterator[None]:
    """Runs started inside name ``parent`` as their parent run (ParentRunFacet)."""
    token = _PARENT.set(parent)
    try:
        yield
    finally:
        _PARENT.reset(token)


class RunLineage:
    """The OpenLineage events of one run; a run without a configured backend gets one that does nothing."""

    def __init__(self, client: Any = None, project: Project | None = None, pipeline: str = "", run_id: int = 0,
                 store_url: Any = None) -> None:
        self._client, self._project, self._pipeline, self._run_id = client, project, pipeline, run_id
        self._store_url = store_url
        self._uuid = ""
        self._sharing: Any = None

    def start(self) -> RunLineage:
        """Send START."""
        if self._client is not None:
            from openlineage.client.uuid import generate_new_uuid

            self._uuid = str(generate_new_uuid())
            self._send("START", None)
        return self

    def compiled(self, step: Any) -> None:
        """Note what the compiled step shares under (a publish's policy plan and agreement)."""
        plan = getattr(step, "plan", None)
        if self._client is None or plan is None:
            return
        from officehub.engine.lineage.facets import SharingRunFacet

        agreement = plan.agreement
        self._sharing = SharingRunFacet(
            policyVersion=plan.policy_version, plan=plan.fingerprint,
            agreementId=agreement.id if agreement else None, purpose=agreement.purpose if agreement else None,
            legalBasis=agreement.legal_basis if agreement else None, producer=PRODUCER)

    def finish(self, result: Any) -> None:
        """Send COMPLETE or FAIL with the run's figures (and the hub's one-line error)."""
        if self._client is not None:
            self._send("FAIL" if result.status == "failed" else "COMPLETE", result)

    def _send(self, state: str, result: Any) -> None:
        try:
            self._client.emit(self._event(state, result))
        except Exception as exc:  # noqa: BLE001 - lineage must never fail a run
            log.warning("lineage: %s event of pipeline %s run %s not sent (%s); the run's later events are "
                        "dropped", state, self._pipeline, self._run_id, type(exc).__name__)
            self._client = None

    def _event(self, state: str, result: Any) -> Any:
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.facet_v2 import error_message_run, job_type_job

        assert self._project is not None  # a RunLineage with a client was made by started()
        pipeline = self._project.config.pipelines[self._pipeline]
        facets: dict[str, Any] = {"officehub_run": _run_facet(self._run_id, self._pipeline, pipeline.kind)}
        parent = _PARENT.get()
        if parent is not None:
            facets["parent"] = _parent_facet(parent)
        if self._sharing is not None:
            facets["officehub_sharing"] = self._sharing
        if state == "FAIL":
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=result.error or "failed", programmingLanguage="python", producer=PRODUCER)
        job = Job(namespace=self._project.config.lineage.namespace, name=self._pipeline, facets={
            "jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="OFFICEHUB",
                                                    jobType=pipeline.kind.upper(), producer=PRODUCER)})
        inputs, outputs = self._datasets(result)
        return RunEvent(eventType=RunState[state], eventTime=datetime.now(UTC).isoformat(),
                        run=Run(runId=self._uuid, facets=facets), job=job, inputs=inputs, outputs=outputs,
                        producer=PRODUCER)

    def _datasets(self, result: Any) -> tuple[list[Any], list[Any]]:
        """The run's input and output dataset, with their row counts once the run is over."""
        from openlineage.client.event_v2 import InputDataset, OutputDataset
        from openlineage.client.facet_v2 import input_statistics_input_dataset as ins
        from openlineage.client.facet_v2 import output_statistics_output_dataset as outs

        assert self._project is not None
        config = self._project.config
        spec = config.mappings[config.pipelines[self._pipeline].mapping]
        system = system_dataset(self._project, spec.system, spec.stream)
        hub = hub_dataset(self._project, self._store_url, spec.entity)
        source, target = (system, hub) if config.pipelines[self._pipeline].kind == "ingest" else (hub, system)
        in_facets: dict[str, Any] = {}
        out_facets: dict[str, Any] = {}
        if result is not None:
            metrics = result.metrics
            in_facets["inputStatistics"] = ins.InputStatisticsInputDatasetFacet(rowCount=metrics.records_read,
                                                                                  producer=PRODUCER)
            out_facets["outputStatistics"] = outs.OutputStatisticsOutputDatasetFacet(
                rowCount=metrics.records_written, producer=PRODUCER)
        return ([InputDataset(namespace=source[0], name=source[1], inputFacets=in_facets)],
                [OutputDataset(namespace=target[0], name=target[1], outputFacets=out_facets)])


def _run_facet(run_id: int, pipeline: str, kind: str) -> Any:
    from officehub.engine.lineage.facets import OfficehubRunFacet

    return OfficehubRunFacet(hubRunId=run_id, pipeline=pipeline, kind=kind, producer=PRODUCER)


def _parent_facet(parent: ParentRun) -> Any:
    from openlineage.client.facet_v2 import parent_run

    return parent_run.ParentRunFacet(run=parent_run.Run(runId=parent.run_id),
                                     job=parent_run.Job(namespace=parent.namespace, name=parent.job),
                                     producer=PRODUCER)


def started(project: Project, pipeline: str, run_id: int, store_url: Any) -> RunLineage:
    """The lineage of a run that starts now: START sent if a backend is configured."""
    client = _client(project)
    if client is None:
        return RunLineage()
    return RunLineage(client, project, pipeline, run_id, store_url).start()


def _client(project: Project) -> Any:
    """An OpenLineage HTTP client for the configured backend, or None (none configured, or not installed)."""
    settings = project.config.lineage
    url = settings.url or os.environ.get("OPENLINEAGE_URL")
    if not url:
        return None
    try:
        from openlineage.client import OpenLineageClient
        from openlineage.client.transport.http import HttpConfig, HttpTransport
    except ImportError:
        log.warning("lineage not sent: pip install 'officehub[lineage]'")
        return None
    try:
        key = settings.api_key.resolve(project.base_dir).get_secret_value() if settings.api_key else \
            os.environ.get("OPENLINEAGE_API_KEY")
    except OfficehubError as exc:
        log.warning("lineage not sent: its api_key cannot be read (%s)", exc.describe())
        return None
    config: dict[str, Any] = {"url": url, "endpoint": settings.endpoint, "timeout": settings.timeout_s,
                              # One try: a backend that is down must not hold a run through retries.
                              "retry": {"total": 0, "connect": 0, "read": 0, "status": 0}}
    if key:
        config["auth"] = {"type": "api_key", "apiKey": key}
    return OpenLineageClient(transport=HttpTransport(HttpConfig.from_dict(config)))
