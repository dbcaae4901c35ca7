"""Reference fields resolved through the cross-reference: vendor ids → canonical ids at ingest, and
canonical ids → a named system's ids at publish (``ids_from``).

A source names the record another one points at by its own id (an invoice's customer
number, a stock row's SKU). The hub stores the canonical id of that record instead, found
in the xref of the system whose ids the column holds: so a child record from one system
attaches to a parent that another system supplied. A row whose referenced record the hub
does not hold yet is quarantined with its reason and replayed once the record has arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from officehub.mapping import InboundMapping, OutboundMapping
from officehub.mapping.compiled import MappedBatch
from officehub.store import bookkeeping as bk
from officehub.store import xref

#: The part of a quarantine reason that marks a row waiting for the record it refers to.
WAITING_FOR_REFERENCE = "in the hub yet (replay the quarantine once it has arrived)"


@dataclass(frozen=True)
class _Reference:
    column: str
    path: str
    entity: str
    system: str


def references_of(mapping: InboundMapping) -> list[_Reference]:
    """The reference fields a mapping fills, with the system whose ids they hold."""
    return [_Reference(f.leaf.column, f.leaf.path, f.leaf.referenced_entity, f.spec.ids_from or mapping.spec.system)
            for f in mapping.fields if f.leaf.referenced_entity]


@dataclass
class Resolved:
    """A mapped batch whose references hold canonical ids, less the rows that could not be resolved."""

    mapped: MappedBatch
    positions: list[str]
    kept: list[int]  # index in the batch before resolving, of each row kept


def resolve(conn: sa.Connection, references: list[_Reference], mapped: MappedBatch, positions: list[str],
            bad: list[bk.Quarantined], raw: Callable[[int], dict[str, Any]]) -> Resolved:
    """Replace each reference's vendor id by the canonical id; rows naming an unknown record join ``bad``."""
    rows = len(mapped.vendor_ids)
    keep = pa.array([True] * rows)
    columns = dict(mapped.columns)
    for ref in references:
        if ref.column not in columns:
            continue
        vendor = pc.cast(columns[ref.column], pa.string())
        wanted = pc.unique(vendor.drop_null()).to_pylist()
        canonical = _looked_up(vendor, xref.lookup(conn, ref.system, ref.entity, wanted))
        missing = pc.and_(pc.is_valid(vendor), pc.is_null(canonical))
        for i in pc.indices_nonzero(pc.and_(missing, keep)).to_pylist():
            bad.append(bk.Quarantined(positions[i], f"{ref.path}: no {ref.entity} from {ref.system} with this id "
                                                    f"{WAITING_FOR_REFERENCE}",
                                      raw(i), mapped.vendor_ids[i]))
        keep = pc.and_(keep, pc.invert(missing))
        columns[ref.column] = canonical
    kept = pc.indices_nonzero(keep).to_pylist()
    if len(kept) == rows:
        return Resolved(MappedBatch(columns, mapped.vendor_ids, mapped.parent_ids, mapped.rows, mapped.errors,
                                    mapped.flags, mapped.nulled), positions, kept)
    take = pa.array(kept, pa.int64())
    staying = set(kept)
    gone = {mapped.vendor_ids[i] for i in range(rows) if i not in staying}
    return Resolved(MappedBatch({name: pc.take(col, take) for name, col in columns.items()},
                                [mapped.vendor_ids[i] for i in kept],
                                [mapped.parent_ids[i] for i in kept] if mapped.parent_ids is not None else None,
                                [mapped.rows[i] for i in kept], mapped.errors,
                                [f for f in mapped.flags if f.vendor_id not in gone], mapped.nulled),
                    [positions[i] for i in kept], kept)


@dataclass(frozen=True)
class _OutboundReference:
    column: str  # the golden column holding canonical ids
    path: str
    entity: str
    system: str


def outbound_references_of(mapping: OutboundMapping) -> list[_OutboundReference]:
    """The reference fields a publish mapping sends as another system's ids (``ids_from``)."""
    return [_OutboundReference(f.leaf.column, f.leaf.path, f.leaf.referenced_entity, f.spec.ids_from)
            for f in mapping.fields if f.leaf.referenced_entity and f.spec.ids_from]


def translate(conn: sa.Connection, references: list[_OutboundReference], live: pa.Table,
              batch_id: str) -> tuple[pa.Table, list[bk.Quarantined]]:
    """Golden rows with their reference columns' canonical ids replaced by the named system's ids.

    It runs before the policy, so a pseudonym of the reference is the pseudonym of that system's
    id. A record whose target has no id in that system cannot be written meaningfully (the
    destination would hold a dangling or foreign id): it is refused for the quarantine, which
    keeps its canonical id and the reference, nothing else of the record.
    """
    columns = {name: live.column(name).combine_chunks() for name in live.column_names}
    keep = pa.array([True] * live.num_rows)
    refused: list[bk.Quarantined] = []
    for ref in references:
        if ref.column not in columns:
            continue
        canonical = pc.cast(columns[ref.column], pa.string())
        ids = _looked_up(canonical, xref.vendor_ids_of(conn, ref.system, ref.entity,
                                                       pc.unique(canonical.drop_null()).to_pylist()))
        missing = pc.and_(pc.is_valid(canonical), pc.is_null(ids))
        for i in pc.indices_nonzero(pc.and_(missing, keep)).to_pylist():
            refused.append(bk.Quarantined(
                f"batch {batch_id} row {i}", f"{ref.path}: the {ref.entity} it refers to has no id in {ref.system} yet",
                {"canonical_id": columns["canonical_id"][i].as_py(), ref.path: canonical[i].as_py()}))
        keep = pc.and_(keep, pc.invert(missing))
        columns[ref.column] = ids
    return pa.table(columns).filter(keep), refused


def _looked_up(ids: pa.Array, found: dict[str, str]) -> pa.Array:
    """Each id replaced by what ``found`` maps it to; null where it has nothing."""
    return pc.take(pa.array(list(found.values()), pa.string()),
                   pc.index_in(ids, value_set=pa.array(list(found), pa.string())))

