"""The match review queue: pairs waiting for a steward, and the steward's accept or reject.

Each pair is shown with its score, its evidence and both records side by side; values
other than names read ``<hidden>`` unless revealed with a stated reason, which is
audited (``match.reveal``) in the transaction that read them. Accepting merges the newer
record into its candidate (``record.merge``, naming the review); rejecting keeps both
(``match.reject``). Both are audited with the acting steward and can be undone through
:mod:`officehub.services.links`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from officehub.canonical_model import layout
from officehub.config import Project
from officehub.connectors.jsonable import jsonable
from officehub.engine.context import RunContext
from officehub.engine.stewardship import LinkChange, Steward
from officehub.services.reasons import stated_reason
from officehub.services.records import known_entity
from officehub.store import audit, golden, matches, xref
from officehub.store.hub import HubStore

HIDDEN = "<hidden>"
_NAME_COLUMNS = ("name__first", "name__last")


def queue(ctx: RunContext, *, entity: str | None = None, include_decided: bool = False, reveal: bool = False,
          reason: str | None = None) -> list[dict[str, Any]]:
    """Review-queue pairs (pending only unless ``include_decided``) with their evidence and both records.

    A reveal needs ``reason``; when it shows any pair it is audited as ``match.reveal`` with the pairs' ids.
    """
    if entity is not None:
        known_entity(entity)
    why = stated_reason(reason, "revealing the review queue") if reveal else None
    pairs = matches.reviews(ctx.conn, None if include_decided else "pending", entity)
    entries = _entries(ctx.conn, pairs, reveal)
    if reveal and entries:
        audit.append(ctx.conn, actor=ctx.actor, action="match.reveal", subject="review queue",
                     detail={"reviews": [e["id"] for e in entries], "reason": why}, run_id=ctx.run_id)
    return entries


def accept(project: Project, store: HubStore, actor: str, review_id: int) -> LinkChange:
    """Accept a pending pair as one record: the newer record is merged into its candidate, in one transaction."""
    return Steward(project, store, actor).link_review(review_id)


def reject(project: Project, store: HubStore, actor: str, review_id: int) -> dict[str, Any]:
    """Decide that a pending pair are different records; both stay as they are. Returns the pair."""
    return Steward(project, store, actor).reject_review(review_id)


def _entries(conn: sa.Connection, pairs: list[dict[str, Any]], reveal: bool) -> list[dict[str, Any]]:
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


def _display_name(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    name = " ".join(str(row[c]) for c in _NAME_COLUMNS if row.get(c))
    return name or str(row.get("name") or row.get("sku") or "")


def _values(entity: str, row: dict[str, Any]) -> dict[str, Any]:
    """Non-empty canonical values of a golden row other than the name, by dotted field path."""
    return {leaf.path: jsonable(row[leaf.column]) for leaf in layout(entity).fields
            if row.get(leaf.column) is not None and leaf.column not in _NAME_COLUMNS}


def _holders(conn: sa.Connection, ids: list[str]) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {}
    for link in xref.of_records(conn, ids):
        if link["erased_at"] is None:
            found.setdefault(link["canonical_id"], []).append([link["system"], link["vendor_id"]])
    return found


def _side(entity: str, cid: str, rows: dict[str, dict[str, Any]], holders: dict[str, list[list[str]]],
          reveal: bool) -> dict[str, Any]:
    row = rows.get(cid)
    values = _values(entity, row) if row else {}
    return {"canonical_id": cid, "name": _display_name(row), "status": row["status"] if row else None,
            "systems": holders.get(cid, []),
            "values": values if reveal else dict.fromkeys(values, HIDDEN)}


def _evidence(pair: dict[str, Any]) -> dict[str, Any]:
    evidence = pair["evidence"] or {}
    keys = evidence.get("keys") or sorted({k for ks in (evidence.get("key_matches") or {}).values() for k in ks})
    return {"method": evidence.get("method"), "keys": keys, "fields": evidence.get("fields", {}),
            "ambiguous": bool(evidence.get("ambiguous"))}
