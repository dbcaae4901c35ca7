"""Golden records as a steward reads them: one record with its lineage, and every version of it.

Medical, criminal and legal values (and the texts of legal holds) read ``<withheld>``, and
a history names the fields a version changed but not their values, unless the caller
reveals them with a stated reason; every reveal is written to the audit trail in the
transaction that read the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model import ENTITIES, Sensitivity, layout
from officehub.canonical_model.errors import FatalError
from officehub.connectors.jsonable import jsonable
from officehub.engine.context import RunContext
from officehub.engine.subjects import WITHHELD as WITHHELD
from officehub.engine.subjects import lineage, locate, versions
from officehub.identity.holds import legal_holds
from officehub.services.reasons import stated_reason
from officehub.store import audit, flags, golden, xref
from officehub.store.schema import TABLES, child_table_name

#: Special-category classes a plain view withholds.
WITHHELD_CLASSES = frozenset({Sensitivity.MEDICAL, Sensitivity.CRIMINAL, Sensitivity.LEGAL})


def known_entity(name: str) -> str:
    """``name`` when the model in force has that entity; FatalError naming the known ones otherwise."""
    if name not in ENTITIES:
        raise FatalError(f"unknown entity '{name}' (known: {', '.join(ENTITIES)})")
    return name


def show(ctx: RunContext, canonical_id: str, *, reveal: bool = False, reason: str | None = None,
         derived: Mapping[str, Sensitivity] | None = None) -> dict[str, Any]:
    """One golden record: state, holds, fields with their lineage, groups, flags and xrefs.

    ``derived`` are the classes the project's mappings give derived fields (``{"entity.path": class}``).
    A reveal needs ``reason`` and is audited as ``record.reveal`` with the special-category fields it showed.
    """
    why = stated_reason(reason, "revealing a record") if reveal else None
    found = _record(ctx.conn, canonical_id, reveal, derived or {})
    if reveal:
        special = {s.value for s in WITHHELD_CLASSES}
        audit.append(ctx.conn, actor=ctx.actor, action="record.reveal", subject=f"{found['entity']} {canonical_id}",
                     detail={"fields": [f["field"] for f in found["fields"] if f["sensitivity"] in special],
                             "reason": why}, run_id=ctx.run_id)
    return found


def history(ctx: RunContext, canonical_id: str, *, reveal: bool = False,
            reason: str | None = None) -> list[dict[str, Any]]:
    """Every version of a golden record with the fields it changed (old and new values only when revealed).

    A reveal needs ``reason`` and is audited as ``record.reveal`` with the number of versions shown.
    """
    why = stated_reason(reason, "revealing a record's history") if reveal else None
    found = _versions(ctx.conn, canonical_id, reveal)
    if reveal:
        audit.append(ctx.conn, actor=ctx.actor, action="record.reveal", subject=f"record {canonical_id}",
                     detail={"history": len(found), "reason": why}, run_id=ctx.run_id)
    return found


def _record(conn: sa.Connection, canonical_id: str, reveal: bool,
            derived: Mapping[str, Sensitivity]) -> dict[str, Any]:
    entity, row = locate(conn, canonical_id)
    holds = legal_holds(entity, row)
    return {
        "entity": entity, "canonical_id": canonical_id, "status": row["status"], "version": row["version"],
        "updated_at": row["updated_at"], "changed_by": row["changed_by"], "run_id": row["run_id"],
        "merged_into": row["merged_into"], "deleted_at": row["deleted_at"], "purge_after": row["purge_after"],
        "held_by": holds if reveal else [WITHHELD] * len(holds),
        "fields": _field_rows(entity, row, lineage(conn, entity, canonical_id, row), reveal),
        "collections": _collections(conn, entity, canonical_id),
        "flags": _flags(conn, entity, canonical_id, reveal, derived),
        "xrefs": [{"system": x["system"], "vendor_id": x["vendor_id"], "linked_by": x["linked_by"],
                   "score": x["match_score"], "linked_at": x["created_at"], "erased_at": x["erased_at"]}
                  for x in xref.of_records(conn, [canonical_id])],
    }


def _field_rows(entity: str, row: dict[str, Any], supplied: dict[str, dict[str, Any]],
                reveal: bool) -> list[dict[str, Any]]:
    out = []
    for leaf in layout(entity).fields:
        if row.get(leaf.column) is None:
            continue
        withheld = leaf.sensitivity in WITHHELD_CLASSES and not reveal
        source = supplied.get(leaf.column.split("__", 1)[0], {})
        # A field of a declared entity may be unclassified: it is shown (no class withholds it) without a class.
        sensitivity = leaf.sensitivity.value if leaf.sensitivity is not None else None
        out.append({"field": leaf.path, "sensitivity": sensitivity,
                    "value": WITHHELD if withheld else jsonable(row[leaf.column]),
                    "system": source.get("system"), "vendor_id": source.get("vendor_id"),
                    "run_id": source.get("run_id"), "since": source.get("since")})
    return out


def _collections(conn: sa.Connection, entity: str, canonical_id: str) -> dict[str, int]:
    """How many entries each repeating group of the record holds."""
    counts = {}
    for coll in golden.collections(entity):
        child = TABLES[child_table_name(entity, coll)]
        counts[coll] = conn.execute(sa.select(sa.func.count()).select_from(child)
                                    .where(child.c.canonical_id == canonical_id)).scalar_one()
    return counts


def _flags(conn: sa.Connection, entity: str, canonical_id: str, reveal: bool,
           derived: Mapping[str, Sensitivity]) -> list[dict[str, Any]]:
    """The record's data-quality flags; the text of a special-category field only when revealed."""
    lay = layout(entity)
    out = []
    for flag in flags.of_record(conn, entity, canonical_id):
        classes = {derived.get(f"{entity}.{flag['field']}")}
        try:
            classes.add(lay.field(flag["field"]).sensitivity)
        except KeyError:
            classes.add(Sensitivity.MEDICAL)  # a field the model no longer has: assume the strictest
        hidden = bool(classes & set(WITHHELD_CLASSES)) and not reveal
        out.append({**flag, "raw": WITHHELD if hidden and flag["raw"] is not None else flag["raw"]})
    return out


def _versions(conn: sa.Connection, canonical_id: str, reveal: bool) -> list[dict[str, Any]]:
    entity, current = locate(conn, canonical_id)
    leaves = layout(entity).fields
    out: list[dict[str, Any]] = []
    previous: dict[str, Any] = {}
    for version in versions(conn, entity, canonical_id, current):
        changed = {leaf.path: [jsonable(previous.get(leaf.column)), jsonable(version.get(leaf.column))]
                   for leaf in leaves if previous.get(leaf.column) != version.get(leaf.column)}
        out.append({"version": version["version"], "updated_at": version["updated_at"], "status": version["status"],
                    "changed_by": version["changed_by"], "run_id": version["run_id"],
                    "changed": changed if reveal else list(changed)})
        previous = version
    return out
