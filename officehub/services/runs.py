"""Pipeline runs as an operator follows them: the history, one run with its figures, the overview, a run started now."""

from __future__ import annotations

import logging
import threading
from typing import Any

from officehub.canonical_model.errors import FatalError, NotFound
from officehub.config import Project
from officehub.engine.context import RunContext
from officehub.store import audit, matches
from officehub.store import bookkeeping as bk
from officehub.store.hub import HubStore

log = logging.getLogger(__name__)
#: Pipelines this process is running for a person (one run of a pipeline at a time).
_RUNNING: set[str] = set()
_LOCK = threading.Lock()


def history(ctx: RunContext, *, pipeline: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs (of ``pipeline`` only, when given), newest first."""
    return bk.list_runs(ctx.conn, pipeline, limit)


def one(ctx: RunContext, run_id: int) -> dict[str, Any]:
    """One run with its figures and its most frequent quarantine reasons (reasons name fields, never values)."""
    found = bk.get_run(ctx.conn, run_id)
    if found is None:
        raise NotFound(f"no run {run_id}")
    return {**found, "top_reasons": bk.top_reasons(ctx.conn, run_id, limit=5)}


def overview(ctx: RunContext, project: Project, *, runs_per_pipeline: int = 30) -> dict[str, Any]:
    """Each configured pipeline with its recent runs (newest first), failing pipelines first, and the
    queues a person should look at: open quarantine entries and pending match reviews."""
    pipelines: list[dict[str, Any]] = []
    for name, config in project.config.pipelines.items():
        mapping = project.config.mappings.get(config.mapping)
        runs = bk.list_runs(ctx.conn, name, runs_per_pipeline)
        pipelines.append({"name": name, "kind": config.kind, "system": mapping.system if mapping else None,
                          "entity": mapping.entity if mapping else None, "schedule": config.schedule,
                          "last": runs[0] if runs else None, "runs": runs,
                          "quarantined": bk.count_quarantine(ctx.conn, name, "open")})
    pipelines.sort(key=lambda p: (not (p["last"] and p["last"]["status"] == "failed"), p["name"]))
    return {"pipelines": pipelines, "open_quarantine": bk.count_quarantine(ctx.conn, None, "open"),
            "pending_reviews": matches.count_reviews(ctx.conn)}


def start(project: Project, store: HubStore, actor: str, name: str) -> None:
    """Run pipeline ``name`` now, in the background of this process; the run appears in the history at once.

    Refused while this process runs the same pipeline. Audited as ``pipeline.start`` with the person.
    """
    if name not in project.config.pipelines:
        raise NotFound(f"no pipeline '{name}' (configured: {', '.join(project.config.pipelines)})")
    with _LOCK:
        if name in _RUNNING:
            raise FatalError(f"pipeline {name} is running already; wait for its run to finish")
        _RUNNING.add(name)
    try:
        with store.begin() as conn:
            audit.append(conn, actor=actor, action="pipeline.start", subject=f"pipeline {name}", detail={})
    except BaseException:
        _RUNNING.discard(name)
        raise

    # Imported here: reading runs (``officehub runs``) must not load the sync engine.
    from officehub.engine.runner import run_pipeline

    def work() -> None:
        try:
            run_pipeline(project, store, name, raise_internal=False)
        except Exception:  # noqa: BLE001 - the run's own record says it failed; keep the server up
            log.error("pipeline %s started by %s: internal error", name, actor)
        finally:
            with _LOCK:
                _RUNNING.discard(name)

    threading.Thread(target=work, name=f"officehub-run-{name}", daemon=True).start()


def running() -> set[str]:
    """Pipelines this process runs now."""
    with _LOCK:
        return set(_RUNNING)
