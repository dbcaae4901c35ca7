"""Running pipelines: bookkeeping around each run, so every run is on record with its figures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from officehub.canonical_model.errors import OfficehubError, RetriableError
from officehub.config import Project
from officehub.engine import lineage, tracing
from officehub.engine.ingest import Ingest
from officehub.engine.ingest_children import ingest_step
from officehub.engine.memory import give_back_free_memory, keep_memory_flat, settled_heap
from officehub.engine.observers import run_finished
from officehub.engine.publish import Publish
from officehub.store import audit_anchor
from officehub.store import bookkeeping as bk
from officehub.store.hub import HubStore

log = logging.getLogger(__name__)

#: Exit codes of a run that failed on its own terms (too much quarantined), and of a bug (see officehub.cli.app).
EXIT_RUN_FAILED, EXIT_INTERNAL = 1, 70
#: Runs that read fewer records are not judged by their quarantined share: two bad rows of an
#: incremental run that read three say nothing about the source as a whole.
QUARANTINE_CHECK_MIN_READ = 20

#: Builds a per-pipeline progress callback: (pipeline, estimator of its rows) → callback(metrics so far).
#: The estimator is called only by a factory that shows a bar: counting a large source table
#: costs a scan on some databases, which an unattended run should not pay.
ProgressFactory = Callable[[str, Callable[[], int | None]], Callable[[bk.RunMetrics], None]]


@dataclass
class RunResult:
    """The outcome of one pipeline run."""

    pipeline: str
    kind: str
    run_id: int
    status: str
    seconds: float
    metrics: bk.RunMetrics = field(default_factory=bk.RunMetrics)
    error: str | None = None
    exit_code: int = 0


def open_store(project: Project) -> HubStore:
    """The project's hub store, migrated to the newest schema."""
    hub = project.config.hub
    return HubStore.open(hub.store, project.base_dir, password=hub.store_password)


def build_step(project: Project, store: HubStore, name: str) -> Ingest | Publish:
    """The compiled ingest or publish step for pipeline ``name``."""
    pipeline = project.config.pipelines[name]
    return ingest_step(project, store, name, pipeline) if pipeline.kind == "ingest" else \
        Publish(project, store, name, pipeline)


def _no_progress(_: str, __: Callable[[], int | None]) -> Callable[[bk.RunMetrics], None]:
    return lambda _metrics: None


def run_pipeline(project: Project, store: HubStore, name: str, progress: ProgressFactory = _no_progress,
                 raise_internal: bool = True) -> RunResult:
    """Run one pipeline to the end; a failure is recorded on the run and returned, not raised.

    Errors that are not officehub's own (bugs) are recorded and then re-raised, unless
    ``raise_internal`` is false: then they are returned like any failure (exit code 70),
    their traceback logged at debug level only, since its text may quote a value.
    """
    kind = project.config.pipelines[name].kind
    try:
        with store.outages_retriable(), store.begin() as conn:
            run_id = bk.start_run(conn, name, kind)
    except RetriableError as exc:  # the hub store is down: no run could start, nor be recorded
        return RunResult(name, kind, 0, "failed", 0.0, error=exc.describe(), exit_code=exc.exit_code)
    reports = (lineage.started(project, name, run_id, store.engine.url),
               tracing.run_started(project, name, kind, run_id))
    started = time.perf_counter()
    result = RunResult(name, kind, run_id, "succeeded", 0.0)
    try:
        # Compiling is part of the run: an expired agreement or a missing key fails it, on record.
        with store.outages_retriable():
            step = build_step(project, store, name)
            reports[0].compiled(step)
            result.metrics = step.run(run_id, progress(name, lambda: _estimate(step)))
        _fail_above_quarantine_limit(project, store, result)
    except OfficehubError as exc:
        result.status, result.error, result.exit_code = "failed", exc.describe(), exc.exit_code
    except BaseException as exc:
        result.status, result.error = "failed", f"internal error ({type(exc).__name__})"
        result.exit_code = EXIT_INTERNAL
        result.seconds = time.perf_counter() - started
        _finish(store, result)
        run_finished(project, store, result)
        _report_end(reports, result)
        if raise_internal or not isinstance(exc, Exception):
            raise
        log.debug("pipeline %s: internal error", name, exc_info=True)
        return result
    result.seconds = time.perf_counter() - started
    _finish(store, result)
    run_finished(project, store, result)
    _report_end(reports, result)
    return result


def _report_end(reports: tuple[lineage.RunLineage, tracing.RunTrace], result: RunResult) -> None:
    """End the run's lineage (COMPLETE or FAIL) and trace; neither can fail the run."""
    reports[1].end(result)
    reports[0].finish(result)


def _fail_above_quarantine_limit(project: Project, store: HubStore, result: RunResult) -> None:
    """Fail a run that quarantined more than its pipeline allows of what it read (a wrong encoding
    or layout quarantines everything, and must not look like a success). What it stored stays."""
    read, quarantined = result.metrics.records_read, result.metrics.records_quarantined
    limit = project.config.pipelines[result.pipeline].max_quarantine_fraction
    if read < QUARANTINE_CHECK_MIN_READ or quarantined / read <= limit:
        return
    with store.begin() as conn:
        reasons = bk.top_reasons(conn, result.run_id)
    listed = "; ".join(f"{reason} ({count})" for reason, count in reasons)
    result.status, result.exit_code = "failed", EXIT_RUN_FAILED
    result.error = (f"quarantined {quarantined} of {read} records read ({quarantined / read:.0%}), more than "
                    f"max_quarantine_fraction {limit:g}" + (f"; most frequent: {listed}" if listed else ""))


def _estimate(step: Ingest | Publish) -> int | None:
    try:
        return step.estimate()
    except OfficehubError:
        return None  # the run itself will report the problem


def _finish(store: HubStore, result: RunResult) -> None:
    try:
        with store.outages_retriable(), store.begin() as conn:
            if result.status == "failed":
                # Figures of committed batches are already stored; keep them.
                bk.finish_run(conn, result.run_id, "failed", result.error)
            else:
                bk.record_progress(conn, result.run_id, result.metrics)
                bk.finish_run(conn, result.run_id, "succeeded")
    except RetriableError as exc:
        # The hub store went away as the run ended: the run stays marked running until the
        # pipeline's next run marks it interrupted; an outcome not recorded is not a success.
        log.warning("pipeline %s: run %d could not be recorded as %s: %s", result.pipeline, result.run_id,
                    result.status, exc.describe())
        if result.status != "failed":
            result.status, result.error, result.exit_code = "failed", exc.describe(), exc.exit_code


def sync(project: Project, names: Iterable[str], progress: ProgressFactory = _no_progress,
         store: HubStore | None = None) -> list[RunResult]:
    """Run pipelines in order; a failed pipeline does not stop the ones after it."""
    keep_memory_flat()
    own_store = store is None
    store = store or open_store(project)
    try:
        results = []
        with settled_heap():
            for name in names:
                # One pipeline's bug must not keep the others from running: it fails on its own.
                results.append(run_pipeline(project, store, name, progress, raise_internal=False))
                give_back_free_memory()
        try:
            with store.outages_retriable(), store.begin() as conn:  # whatever the runs audited is signed now
                audit_anchor.checkpoint(conn, project.audit_keys)
        except RetriableError as exc:  # the runs' own outcomes say what happened; the next sync signs
            log.warning("the audit trail could not be checkpointed: %s", exc.describe())
        return results
    finally:
        if own_store:
            store.close()
