"""What the match and record commands read from the hub store: review pairs, golden records, versions.

Kept apart from :mod:`officehub.cli.commands_identity` so that SQLAlchemy, the store and
the engine are imported only when one of those commands runs, not when the CLI starts.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from officehub.canonical_model import Sensitivity, layout
from officehub.connectors.jsonable import jsonable
from officehub.engine.subjects import lineage, locate
from officehub.identity.holds import legal_holds
from officehub.store import flags, golden, xref
from officehub.store.schema import TABLES, child_table_name, history_table_name

HIDDEN = "<hidden>"
WITHHELD = "<withheld>"
#: Special-category classes a plain `record show` withholds.
WITHHELD_CLASSES = frozenset({Sensitivity.MEDICAL, Sensitivity.CRIMINAL, Sensitivity.LEGAL})
_NAME_COLUMNS = ("name__first", "name__last")
_T = TABLES


def _display_name(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    name = " ".join(str(row[c]) for c in _NAME_COLUMNS if row.get(c))
    return name or str(row.get("name") or row.get("sku") or "")


def _values(entity: str, row: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Non-empty canonical values of a golden row, by dotted field path."""
    return {leaf.path: jsonable(row[leaf.column]) for leaf in layout(entity).fields
            if row.get(leaf.column) is not None and leaf.column not in skip}


def _holders(conn: sa.Connection, ids: list[str]) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {}
    for link in xref.of_records(conn, ids):
        if link["erased_at"] is None:
            found.setdefault(link["canonical_id"], []).append([link["system"], link["vendor_id"]])
    return found


def _side(entity: str, cid: str, rows: dict[str, dict[str, Any]], holders: dict[str, list[list[str]]],
          reveal: bool) -> dict[str, Any]:
    row = rows.get(cid)
    values = _values(entity, row, _NAME_COLUMNS) if row else {}
    return {"canonical_id": cid, "name": _display_name(row), "status": row["status"] if row else None,
            "systems": holders.get(cid, []),
            "values": values if reveal else dict.fromkeys(values, HIDDEN)}


def _evidence(pair: dict[str, Any]) -> dict[str, Any]:
    evidence = pair["evidence"] or {}
    keys = evidence.get("keys") or sorted({k for ks in (evidence.get("key_matches") or {}).values() for k in ks})
    return {"method": evidence.get("method"), "keys": keys, "fields": evidence.get("fields", {}),
            "ambiguous": bool(evidence.get("ambiguous"))}


def review_entries(conn: sa.Connection, pairs: list[dict[str, Any]], reveal: bool) -> list[dict[str, Any]]:
    """Review-queue ``pairs`` with their evidence and both records side by side (values hidden unless ``reveal``)."""
    out = []
    for entity in sorted({p["entity"] for p in pairs}):
        mine = [p for p in pairs if p["entity"] == entity]
        ids = [cid for p in mine for cid in (p["canonical_id"], p["candidate_id"])]
        rows = golden.fetch(conn, entity, "canonical_id", ids)
        holders = _holders(conn, ids)
        out += [{"id": p["id"], "entity": entity, "status": p["status"], "score": p["score"], **_evidence(p),
                 "record": _side(entity, p["canonical_id"], rows, holders, reveal),
                 "candidate": _side(entity, p["candidate_id"], rows, holders, reveal),
                 "run_id": p["run_id"], "created_at": p["created_at"], "decided_at": p["decided_at"],
                 "decided_by": p["decided_by"]} for p in mine]
    return sorted(out, key=lambda e: e["id"])


def _field_rows(entity: str, row: dict[str, Any], supplied: dict[str, dict[str, Any]],
                reveal: bool) -> list[dict[str, Any]]:
    out = []
    for leaf in layout(entity).fields:
        if row.get(leaf.column) is None:
            continue
        withheld = leaf.sensitivity in WITHHELD_CLASSES and not reveal
        source = supplied.get(leaf.column.split("__", 1)[0], {})
        out.append({"field": leaf.path, "sensitivity": leaf.sensitivity.value,
                    "value": WITHHELD if withheld else jsonable(row[leaf.column]),
                    "system": source.get("system"), "vendor_id": source.get("vendor_id"),
                    "run_id": source.get("run_id"), "since": source.get("since")})
    return out


def _collections(conn: sa.Connection, entity: str, canonical_id: str) -> dict[str, int]:
    counts = {}
    for coll in golden.collections(entity):
        child = _T[child_table_name(entity, coll)]
        counts[coll] = conn.execute(sa.select(sa.func.count()).select_from(child)
                                    .where(child.c.canonical_id == canonical_id)).scalar_one()
    return counts


def _flags(conn: sa.Connection, entity: str, canonical_id: str, reveal: bool,
           derived: dict[str, Sensitivity]) -> list[dict[str, Any]]:
    """The record's data-quality flags; the text of a special-category field only with --reveal."""
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


def golden_record(conn: sa.Connection, canonical_id: str, reveal: bool,
                  derived: dict[str, Sensitivity] | None = None) -> dict[str, Any]:
    """One golden record: state, holds, fields with their lineage, groups, flags and xrefs.

    Special-category values and the holds' texts read as withheld unless ``reveal``.
    """
    entity, row = locate(conn, canonical_id)
    holds = legal_holds(entity, row)
    return {
        "entity": entity, "canonical_id": canonical_id, "status": row["status"], "version": row["version"],
        "updated_at": row["updated_at"], "changed_by": row["changed_by"], "run_id": row["run_id"],
        "merged_into": row["merged_into"], "deleted_at": row["deleted_at"], "purge_after": row["purge_after"],
        "held_by": holds if reveal else [WITHHELD] * len(holds),
        "fields": _field_rows(entity, row, lineage(conn, entity, canonical_id, row), reveal),
        "collections": _collections(conn, entity, canonical_id),
        "flags": _flags(conn, entity, canonical_id, reveal, derived or {}),
        "xrefs": [{"system": x["system"], "vendor_id": x["vendor_id"], "linked_by": x["linked_by"],
                   "score": x["match_score"], "linked_at": x["created_at"], "erased_at": x["erased_at"]}
                  for x in xref.of_records(conn, [canonical_id])],
    }


def _versions(conn: sa.Connection, entity: str, canonical_id: str, current: dict[str, Any]) -> list[dict[str, Any]]:
    older = _T[history_table_name(entity)]
    stmt = sa.select(older).where(older.c.canonical_id == canonical_id).order_by(older.c.version)
    return [*(dict(r._mapping) for r in conn.execute(stmt)), current]


def versions_of(conn: sa.Connection, canonical_id: str, reveal: bool) -> list[dict[str, Any]]:
    """Every version of a golden record with the fields it changed (old and new values only when ``reveal``)."""
    entity, current = locate(conn, canonical_id)
    leaves = layout(entity).fields
    out, previous = [], {}
    for version in _versions(conn, entity, canonical_id, current):
        changed = {leaf.path: [jsonable(previous.get(leaf.column)), jsonable(version.get(leaf.column))]
                   for leaf in leaves if previous.get(leaf.column) != version.get(leaf.column)}
        out.append({"version": version["version"], "updated_at": version["updated_at"], "status": version["status"],
                    "changed_by": version["changed_by"], "run_id": version["run_id"],
                    "changed": changed if reveal else list(changed)})
        previous = version
    return out
