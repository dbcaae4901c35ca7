"""Storing records that one system alone supplies: the golden row is that system's copy (ADR 0018).

Three steps, one per group of :mod:`officehub.engine.ingest_sort`:

- :func:`update_in_place`: changed records updated set-based, before the batch is sorted
  (a run that continues from a checkpoint is mostly these; ADR 0009);
- :func:`update_sole`: changed records, a new version each;
- :func:`append_fresh`: records new to the hub, appended as Arrow columns.
"""

from __future__ import annotations

import pyarrow as pa

from officehub.engine.context import RunContext
from officehub.engine.echo import echo_hash
from officehub.engine.ingest_batch import BatchOutcome, BatchRows, RecordTarget
from officehub.store import golden, in_place, xref


def update_in_place(ctx: RunContext, target: RecordTarget, rows: BatchRows, indexes: list[int],
                    outcome: BatchOutcome) -> in_place.InPlace:
    """Update the rows' single-source records set-based; the result names the vendor ids it dealt with."""
    take = pa.array(indexes, pa.int64())
    mapped = rows.mapped
    result = in_place.update_single_sources(
        ctx.conn, target.entity, target.system,
        {c: mapped.columns[c].take(take) for c in target.columns if c in mapped.columns},
        rows.ids(indexes), [rows.digests[i] for i in indexes], rows.times.take(indexes, ctx.now()),
        rows.unmapped(target.columns), changed_by=ctx.actor, run_id=ctx.run_id)
    outcome.unchanged += len(result.unchanged)
    outcome.written += len(result.updated)
    return result


def update_sole(ctx: RunContext, target: RecordTarget, rows: BatchRows, sole: dict[str, xref.Link],
                outcome: BatchOutcome) -> None:
    """New versions of sole-form records whose values changed.

    A row that brings back what the hub wrote to this system (an echo) keeps the copy's
    change time, as a layered copy does. A record that is not active stays as it is.
    """
    if not sole:
        return
    current = golden.fetch(ctx.conn, target.entity, "canonical_id", [link.canonical_id for link in sole.values()])
    incoming = rows.records([i for i, vid in enumerate(rows.vendor_ids) if vid in sole])
    unmapped = rows.unmapped(target.columns)
    moment = ctx.now()
    changed = []
    for vid, link in sole.items():
        before = current[link.canonical_id]
        values = incoming[vid]
        if any(before[c] is not None for c in unmapped):
            digest = golden.content_hash({**before, **values}, target.columns)
        else:
            digest = rows.digest_of[vid]
        if before["status"] != "active" or before["content_hash"] == digest:
            outcome.unchanged += 1
            continue
        echo = link.sent_hash is not None and bool(target.echo) and link.sent_hash == echo_hash(values, target.echo)
        changed.append({**before, **values, "content_hash": digest, "lineage": None,
                        "sole_changed_at": before["sole_changed_at"] if echo else rows.times.get(vid, moment),
                        "changed_by": ctx.actor, "run_id": ctx.run_id})
    target.writer.write(ctx, changed, current)
    if target.echo:  # what this system now holds, so a publish does not send it straight back
        written = {r["canonical_id"] for r in changed}
        xref.set_sent_hashes(ctx.conn, target.system, target.entity, {
            vid: echo_hash(incoming[vid], target.echo) for vid, link in sole.items() if link.canonical_id in written})
    outcome.written += len(changed)


def append_fresh(ctx: RunContext, target: RecordTarget, rows: BatchRows, fresh: list[int], ids: dict[str, str],
                 outcome: BatchOutcome) -> None:
    """Records new to the hub that one row alone supplies, stored once with the system's key."""
    if not fresh:
        return
    vendor_ids = rows.ids(fresh)
    target.writer.append_new(ctx, rows.mapped.columns, fresh, [ids[vid] for vid in vendor_ids],
                             [rows.digests[i] for i in fresh], sole=(target.system, vendor_ids, rows.times.take(fresh, ctx.now())))
    if target.echo:
        records = rows.records(fresh)
        xref.set_sent_hashes(ctx.conn, target.system, target.entity,
                             {vid: echo_hash(records[vid], target.echo) for vid in vendor_ids})
    outcome.written += len(fresh)
    outcome.added += len(fresh)
