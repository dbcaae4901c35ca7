"""Storing records that more than one system supplies: a copy per system, then survivorship (ADR 0006).

The step for the **layered** group of :mod:`officehub.engine.ingest_sort`: it links the
vendor ids identity resolution matched, turns the sole-form records they joined into the
layered form, writes this system's copies (new ones as Arrow columns, changed ones as an
upsert) and recomputes the golden records from all their copies.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from officehub.engine.context import RunContext
from officehub.engine.echo import echo_hash
from officehub.engine.golden_writer import Written
from officehub.engine.ingest_batch import BatchOutcome, BatchRows, Records, RecordTarget
from officehub.engine.ingest_sort import RowGroups
from officehub.store import golden, sources, xref
from officehub.store.schema import source_table_name


def store_layered(ctx: RunContext, target: RecordTarget, rows: BatchRows, groups: RowGroups,
                  outcome: BatchOutcome) -> Written:
    """Link what resolution matched, then this system's copies of the layered group's records and their golden records.

    Returns what recomputing the golden records did (conflicts, holds, deletions).
    """
    system, entity, ids, links, resolution = target.system, target.entity, groups.ids, groups.known, groups.resolution
    xref.link(ctx.conn, system, entity, [link for link in resolution.links if link[1] not in resolution.fresh])
    xref.layer(ctx.conn, entity, list({ids[vid] for vid in rows.ids(groups.layered)}))
    incoming = rows.records(groups.layered)
    # Every copy of the records this batch changes, read once: this system's previous copy
    # is the base for change detection, and all of them feed survivorship.
    copies = _copies(ctx, target, [v for v in incoming if v in links], links)
    previous = {row["vendor_id"]: row for held in copies.values() for row in held
                if row["system"] == system and row["vendor_id"] in incoming}
    # First copy of this system's record (a new vendor id, or a record the hub wrote to this
    # system and now reads back): its source row goes in as Arrow columns straight from the mapping.
    first = [i for i in groups.layered if rows.vendor_ids[i] not in previous]
    first_ids = [ids[vid] for vid in rows.ids(first)]
    _append_copies(ctx, target, rows, first, first_ids)
    changed = _changed_copies(ctx, target, rows, incoming, ids, previous, links, outcome)
    sources.upsert(ctx.conn, entity, changed)
    if target.echo:  # what this system now holds, so a publish does not send it straight back
        xref.set_sent_hashes(ctx.conn, system, entity, {
            vid: echo_hash(incoming[vid], target.echo) for vid in [r["vendor_id"] for r in changed] + rows.ids(first)})
    others = [r["canonical_id"] for r in changed] + first_ids
    edits = {r["canonical_id"]: (previous[r["vendor_id"]], incoming[r["vendor_id"]]) for r in changed}
    outcome.written += len(changed) + len(first)
    outcome.added += len(first)
    return target.writer.recompute(ctx, list(dict.fromkeys(others)), edits=edits, known=_after(copies, changed))


def _copies(ctx: RunContext, target: RecordTarget, vendor_ids: list[str],
            links: dict[str, xref.Link]) -> dict[str, list[dict[str, Any]]]:
    """Every source copy of the records ``vendor_ids`` are linked to, by canonical id."""
    copies = sources.by_canonical_id(ctx.conn, target.entity, list({links[v].canonical_id for v in vendor_ids}))
    found = {row["vendor_id"] for rows in copies.values() for row in rows if row["system"] == target.system}
    stray = [v for v in vendor_ids if v not in found]
    if stray:  # a copy filed under another record than its link (never expected): read it by vendor id
        for row in sources.by_vendor_id(ctx.conn, target.entity, target.system, stray).values():
            copies.setdefault(row["canonical_id"], []).append(row)
    return copies


def _append_copies(ctx: RunContext, target: RecordTarget, rows: BatchRows, indexes: list[int],
                   canonical_ids: list[str]) -> None:
    """First copies of this system's records, as Arrow columns."""
    if not indexes:
        return
    count = len(indexes)
    take = pa.array(indexes, pa.int64())
    golden.append(ctx.conn, source_table_name(target.entity), {
        **{name: col.take(take) for name, col in rows.mapped.columns.items()},
        "system": pa.array([target.system] * count, pa.string()),
        "vendor_id": pa.array(rows.ids(indexes), pa.string()),
        "canonical_id": pa.array(canonical_ids, pa.string()),
        "content_hash": pa.array([rows.digests[i] for i in indexes], pa.string()),
        "changed_at": rows.times.take(indexes, ctx.now()),
        "run_id": pa.array([ctx.run_id] * count, pa.int64()),
    })


def _changed_copies(ctx: RunContext, target: RecordTarget, rows: BatchRows, incoming: Records,
                    ids: dict[str, str], previous: dict[str, dict[str, Any]], links: dict[str, xref.Link],
                    outcome: BatchOutcome) -> list[dict[str, Any]]:
    """Known copies whose values changed; values the hub itself wrote there keep their old change time.

    A row's new content hash is the one the batch brought (by vendor id: the last row of
    each, as ``incoming`` holds) unless the stored copy has a value in a column this mapping
    does not supply, which the merge keeps.
    """
    unmapped = rows.unmapped(target.columns)
    moment = ctx.now()
    changed = []
    for vid, before in previous.items():
        values = incoming[vid]
        if any(before[c] is not None for c in unmapped):
            digest = golden.content_hash({**before, **values}, target.columns)
        else:
            digest = rows.digest_of[vid]
        if before["content_hash"] == digest and before["deleted_at"] is None:
            outcome.unchanged += 1
            continue
        link = links.get(vid)
        echo = (link is not None and link.sent_hash is not None and bool(target.echo)
                and link.sent_hash == echo_hash(values, target.echo))
        changed.append({"system": target.system, "vendor_id": vid, "canonical_id": ids[vid],
                        "content_hash": digest,
                        "changed_at": before["changed_at"] if echo else rows.times.get(vid, moment),
                        "run_id": ctx.run_id, "deleted_at": None, **values})
    return changed


def _after(copies: dict[str, list[dict[str, Any]]], changed: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The copies of the changed records as they are once ``changed`` is written.

    A record is left out (to be read afresh) unless each of its changed copies was among those read.
    """
    by_record: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for row in changed:
        by_record.setdefault(row["canonical_id"], {})[(row["system"], row["vendor_id"])] = row
    after = {}
    for cid, new in by_record.items():
        merged, found = [], 0
        for copy in copies.get(cid, ()):
            update = new.get((copy["system"], copy["vendor_id"]))
            if update is None:
                merged.append(copy)  # unchanged copies are only read, never written to
            else:
                merged.append({**copy, **update})
                found += 1
        if found == len(new):
            after[cid] = merged
    return after
