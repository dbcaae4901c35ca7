"""Replaying quarantined records after the cause was fixed (mapping, config or the parent arriving)."""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa

from canonical_model.errors import FatalError
from officehub.config import Project
from officehub.engine.ingest import Ingest
from officehub.engine.runner import RunResult
from officehub.store import bookkeeping as bk
from officehub.store.hub import HubStore


def replay(project: Project, store: HubStore, items: list[dict]) -> list[RunResult]:
    """Run quarantined records of ingest pipelines through their mapping again.

    Records that now pass are stored and marked replayed; the others stay in the
    quarantine with their new reason. Records whose raw form cannot be replayed
    (e.g. undecodable lines) stay as they are.
    """
    by_pipeline: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_pipeline[item["pipeline"]].append(item)
    return [_replay_pipeline(project, store, name, group) for name, group in by_pipeline.items()]


def _replay_pipeline(project: Project, store: HubStore, name: str, items: list[dict]) -> RunResult:
    pipeline = project.config.pipelines.get(name)
    if pipeline is None or pipeline.kind != "ingest":
        raise FatalError(f"pipeline '{name}' is not an ingest pipeline of this project")
    step = Ingest(project, store, name, pipeline)
    replayable = [i for i in items if step.mapping.vendor_columns <= set(i["raw"])]
    with store.begin() as conn:
        run_id = bk.start_run(conn, name, "replay")
        batch = pa.RecordBatch.from_pylist([{c: i["raw"].get(c) for c in step.mapping.vendor_columns}
                                            for i in replayable]) if replayable else None
        outcome_written, failed = 0, {}
        if batch is not None:
            mapped = step.mapping.apply(batch)
            failed = {replayable[row]["id"]: reason for row, reason in mapped.errors.items()}
            bad: list[bk.Quarantined] = []
            positions = [replayable[row]["position"] for row in mapped.rows]
            outcome = step.store_mapped(conn, mapped, positions, bad, lambda i: replayable[mapped.rows[i]]["raw"])
            outcome_written = outcome.written
            id_at = {i["position"]: i["id"] for i in replayable}
            failed.update({id_at[q.position]: q.reason for q in bad})
        for item_id, reason in failed.items():
            bk.requarantine(conn, item_id, reason)
        fixed = [i["id"] for i in replayable if i["id"] not in failed]
        bk.resolve_quarantined(conn, fixed, run_id)
        metrics = bk.RunMetrics(records_read=len(items), records_written=outcome_written,
                                records_unchanged=len(fixed) - outcome_written,
                                records_quarantined=len(items) - len(fixed))
        bk.record_progress(conn, run_id, metrics)
        bk.finish_run(conn, run_id, "succeeded")
    return RunResult(name, "replay", run_id, "succeeded", 0.0, metrics)
