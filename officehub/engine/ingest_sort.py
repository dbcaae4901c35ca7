"""The first step of storing a batch of records: sort its rows by what storing each one takes.

One look-up of the batch's vendor ids in the cross-reference (and, for ids new to the hub,
identity resolution) puts every row in one group:

- **erased**: its record was erased on a data-subject request; it is never taken in again;
- **orphan**: it extends a record (``extends`` in the mapping) that has not arrived yet; it
  joins the quarantine to be replayed;
- **sole**: its record is one this system alone supplies, stored once (ADR 0018);
- **fresh**: its record is new to the hub and this row alone supplies it;
- **layered**: its record has (or now gets) a copy per system and a cross-reference.

Whether a row changed (or is an echo of what the hub wrote to its system) is decided by the
step that applies its group, against the stored row it has to read anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from officehub.engine.context import RunContext
from officehub.engine.ingest_batch import BatchRows, RecordTarget
from officehub.engine.resolve import Resolution, resolve
from officehub.store import bookkeeping as bk
from officehub.store import xref


@dataclass
class RowGroups:
    """A batch's rows by group (indexes of mapped rows; sole records by vendor id)."""

    erased: int                    # rows dropped: their record was erased
    sole: dict[str, xref.Link]     # vendor id → the link that is its golden row's own key
    fresh: list[int]
    layered: list[int]
    #: links of the layered rows known before this batch (not the sole ones)
    known: dict[str, xref.Link]
    resolution: Resolution
    #: vendor id → canonical id of every fresh and layered row
    ids: dict[str, str]


def sort_rows(ctx: RunContext, target: RecordTarget, rows: BatchRows, indexes: list[int], *,
              extends: bool, new_ids: dict[str, str] | None) -> RowGroups:
    """Sort rows ``indexes`` (one per vendor id) of ``rows`` into groups; orphans join ``rows.bad``.

    ``new_ids`` may hold the canonical id each vendor id gets if it is a new record.
    """
    ids_of = rows.vendor_ids
    links = xref.links(ctx.conn, target.system, target.entity, rows.ids(indexes))
    erased = [i for i in indexes if (link := links.get(ids_of[i])) is not None and link.erased]
    indexes = [i for i in indexes if not ((link := links.get(ids_of[i])) is not None and link.erased)]
    if extends:
        orphans = [i for i in indexes if ids_of[i] not in links]
        rows.bad += [bk.Quarantined(rows.positions[i], f"no {target.entity} from {target.system} with this key "
                                    "yet (replay the quarantine once it has arrived)", rows.raw(i), ids_of[i])
                     for i in orphans]
        indexes = [i for i in indexes if ids_of[i] in links]
    sole = {ids_of[i]: link for i in indexes if (link := links.get(ids_of[i])) is not None and link.sole}
    known = {vid: link for vid, link in links.items() if not link.sole}
    indexes = [i for i in indexes if ids_of[i] not in sole]
    incoming = rows.records(indexes)
    resolution = resolve(ctx.conn, target.writer, target.system, [v for v in incoming if v not in known],
                         incoming, new_ids)
    ids = {**{vid: link.canonical_id for vid, link in known.items()}, **resolution.ids}
    fresh = [i for i in indexes if ids[ids_of[i]] in resolution.fresh]
    layered = [i for i in indexes if ids[ids_of[i]] not in resolution.fresh]
    return RowGroups(len(erased), sole, fresh, layered, known, resolution, ids)
