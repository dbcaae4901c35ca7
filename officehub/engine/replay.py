"""Replaying quarantined records after the cause was fixed (mapping, config or the parent arriving).

A replay never applies a row older than what the hub already holds from that system for
that record: the source may have fixed the row since, and the cursor is past it, so a stale
row written over the newer copy would never be corrected. Such an entry closes as superseded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.config import Project
from officehub.engine.ingest import Ingest
from officehub.engine.ingest_children import ingest_step
from officehub.engine.references import WAITING_FOR_REFERENCE
from officehub.engine.runner import RunResult
from officehub.store import bookkeeping as bk
from officehub.store import sources
from officehub.store.hub import HubStore


@dataclass
class Replayed:
    """One pipeline's replay: its run, and how many entries closed as superseded by newer data."""

    result: RunResult
    superseded: int = 0


def replay(project: Project, store: HubStore, items: list[dict[str, Any]]) -> list[Replayed]:
    """Run quarantined records of ingest pipelines through their mapping again.

    Records that now pass are stored and marked replayed; records the hub holds newer data
    of are marked superseded; the others stay in the quarantine with their new reason.
    Records whose raw form cannot be replayed (e.g. undecodable lines) stay as they are.
    """
    by_pipeline: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_pipeline[item["pipeline"]].append(item)
    return [_replay_pipeline(project, store, name, group) for name, group in by_pipeline.items()]


def waiting_for_references(conn: sa.Connection, pipeline: str) -> list[dict[str, Any]]:
    """The open entries of ``pipeline`` that wait for a record they refer to, with their raw rows."""
    listed = bk.list_quarantine(conn, pipeline, "open", max(bk.count_quarantine(conn, pipeline, "open"), 1))
    found = [bk.get_quarantined(conn, q["id"]) for q in listed if q["reason"].endswith(WAITING_FOR_REFERENCE)]
    return [item for item in found if item is not None]


def _replay_pipeline(project: Project, store: HubStore, name: str, items: list[dict[str, Any]]) -> Replayed:
    pipeline = project.config.pipelines.get(name)
    if pipeline is None or pipeline.kind != "ingest":
        raise FatalError(f"pipeline '{name}' is not an ingest pipeline of this project")
    step = ingest_step(project, store, name, pipeline)
    replayable = [i for i in items if step.mapping.vendor_columns <= set(i["raw"])]
    with store.begin() as conn:
        run_id = bk.start_run(conn, name, "replay")
        stale = {i["id"] for i in _superseded(conn, step, replayable)}
        bk.close_quarantined(conn, sorted(stale), run_id, "superseded")
        replayable = [i for i in replayable if i["id"] not in stale]
        batch = pa.RecordBatch.from_pylist([{c: i["raw"].get(c) for c in step.mapping.vendor_columns}
                                            for i in replayable]) if replayable else None
        outcome_written, failed, soft = 0, {}, (0, 0)
        if batch is not None:
            mapped = step.mapping.apply(batch)
            failed = {replayable[row]["id"]: reason for row, reason in mapped.errors.items()}
            bad: list[bk.Quarantined] = []
            positions = [replayable[row]["position"] for row in mapped.rows]
            # The replay is a run: the records it stores name it in their history.
            ctx = step.context(conn, run_id)
            outcome = step.store_mapped(ctx, mapped, positions, bad, lambda i: replayable[mapped.rows[i]]["raw"])
            outcome_written = outcome.written
            step.record_flags(ctx, mapped)
            soft = (len(mapped.flags), mapped.nulled)
            id_at = {i["position"]: i["id"] for i in replayable}
            failed.update({id_at[q.position]: q.reason for q in bad})
        for item_id, reason in failed.items():
            bk.requarantine(conn, item_id, reason)
        fixed = [i["id"] for i in replayable if i["id"] not in failed]
        bk.close_quarantined(conn, fixed, run_id)
        metrics = bk.RunMetrics(records_read=len(items), records_written=outcome_written,
                                records_unchanged=len(fixed) - outcome_written + len(stale),
                                records_quarantined=len(items) - len(fixed) - len(stale),
                                fields_flagged=soft[0], fields_nulled=soft[1])
        bk.record_progress(conn, run_id, metrics)
        bk.finish_run(conn, run_id, "succeeded")
    return Replayed(RunResult(name, "replay", run_id, "succeeded", 0.0, metrics), len(stale))


def _superseded(conn: sa.Connection, step: Ingest, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries whose record the hub holds a copy of from this system at least as new as the row.

    The row's change time is its cursor value where that is a time; otherwise the read that
    stored the copy is compared with the read that quarantined the row (a later or the same run
    means the hub's copy is not older).
    """
    if step.spec.collection or not items:
        return []
    keys = pa.RecordBatch.from_pylist([{c: i["raw"].get(c) for c in step.spec.key} for i in items])
    vendor_ids = [i.get("vendor_id") or vid for i, vid in zip(items, step.mapping.vendor_ids(keys))]
    copies = sources.by_vendor_id(conn, step.spec.entity, step.spec.system, [v for v in vendor_ids if v])
    return [item for item, vid in zip(items, vendor_ids)
            if vid in copies and _not_older(copies[vid], item, step.spec.cursor)]


def _not_older(copy: dict[str, Any], item: dict[str, Any], cursor: str | None) -> bool:
    """Whether the hub's ``copy`` of a record is at least as new as the quarantined row ``item``."""
    row_time = _as_time(item["raw"].get(cursor)) if cursor else None
    if row_time is not None:
        return _utc(copy["changed_at"]) >= row_time
    return copy["run_id"] is not None and copy["run_id"] >= item["run_id"]


def _as_time(value: Any) -> datetime | None:
    """A cursor value as a UTC time, or None where it is not one (a sequence number, another format)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _utc(moment: datetime) -> datetime:
    """Times without a zone are UTC (as ingest stores them)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
