"""A data steward's decisions on identity: link, reject, merge, unlink — each audited and reversible.

A merge moves every cross-reference and source row of one golden record to
another, recomputes the survivor through survivorship and leaves the other as a
``merged`` tombstone (publishes delete it downstream). The link log keeps what
moved, so ``unmerge`` restores both records and their xrefs exactly; an unlink
(one system's record split off into a record of its own) is reversed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError, NotFound
from officehub.config import Project
from officehub.engine.context import RunContext
from officehub.engine.golden_writer import GoldenWriter
from officehub.engine.ingest import writer_for
from officehub.store import audit, golden, matches, sources, xref
from officehub.store.hub import HubStore
from officehub.store.ids import new_canonical_id
from officehub.store.schema import TABLES, child_table_name

_T = TABLES


@dataclass(frozen=True)
class LinkChange:
    """What a steward's action did, for the command's output."""

    log_id: int | None
    entity: str
    survivor_id: str
    other_id: str
    moved: list[tuple[str, str]]


def _active(conn: sa.Connection, entity: str, canonical_id: str) -> dict[str, Any]:
    row = golden.fetch(conn, entity, "canonical_id", [canonical_id]).get(canonical_id)
    if row is None:
        raise NotFound(f"no {entity} record {canonical_id} in the hub")
    if row["status"] != "active":
        raise FatalError(f"{entity} record {canonical_id} is {row['status']}, not active")
    return row


def _pairs(conn: sa.Connection, entity: str, canonical_id: str) -> list[tuple[str, str]]:
    return [(x["system"], x["vendor_id"]) for x in xref.of_records(conn, [canonical_id]) if x["entity"] == entity]


class Steward:
    """Identity decisions on one project's hub store."""

    def __init__(self, project: Project, store: HubStore, actor: str) -> None:
        self.project, self.store, self.actor = project, store, actor

    def _context(self, conn: sa.Connection) -> RunContext:
        """The steward acting on ``conn``, outside any run."""
        return RunContext(conn, self.actor)

    def _writer(self, entity: str) -> GoldenWriter:
        return writer_for(self.project, entity)

    def merge(self, entity: str, survivor_id: str, other_id: str, *, review_id: int | None = None) -> LinkChange:
        """Fold ``other_id`` into ``survivor_id``."""
        with self.store.begin() as conn:
            return self._merge(conn, entity, survivor_id, other_id, review_id)

    def _merge(self, conn: sa.Connection, entity: str, survivor_id: str, other_id: str,
               review_id: int | None) -> LinkChange:
        """The merge on ``conn``: the caller's transaction commits it with whatever else it decides."""
        if survivor_id == other_id:
            raise FatalError("a record cannot be merged with itself")
        writer = self._writer(entity)
        _active(conn, entity, survivor_id)
        other = _active(conn, entity, other_id)
        # Both get a copy per system first: the merge moves copies, and unmerge moves them back.
        xref.layer(conn, entity, [survivor_id, other_id])
        pairs = _pairs(conn, entity, other_id)
        children = self._children_of(conn, entity, other_id)
        self._move_children(conn, entity, children, survivor_id)
        xref.move(conn, entity, pairs, survivor_id)
        sources.relink(conn, entity, pairs, survivor_id)
        # The other record becomes a tombstone pointing at the survivor (publishes delete it
        # downstream); its values live on in the source rows now linked to the survivor.
        self._tombstone(conn, writer, other, survivor_id)
        writer.recompute(self._context(conn), [survivor_id])
        log_id = matches.log_link(conn, entity, "merge", survivor_id, other_id,
                                  {"moved": pairs, "children": children, "review": review_id}, self.actor)
        matches.obsolete_reviews(conn, [other_id])
        audit.append(conn, actor=self.actor, action="record.merge", subject=f"{entity} {survivor_id}",
                     detail={"merged": other_id, "xrefs": len(pairs), "link_log": log_id, "review": review_id})
        return LinkChange(log_id, entity, survivor_id, other_id, pairs)

    def unlink(self, entity: str, system: str, vendor_id: str) -> LinkChange:
        """Split one system's record off its golden record into a new golden record of its own."""
        writer = self._writer(entity)
        with self.store.begin() as conn:
            current = xref.lookup(conn, system, entity, [vendor_id]).get(vendor_id)
            if current is None:
                raise FatalError(f"{system} has no {entity} {vendor_id} in the hub", system=system)
            _active(conn, entity, current)
            if len(_pairs(conn, entity, current)) < 2:
                raise FatalError(f"{system} {vendor_id} is the only source of {entity} {current}: nothing to unlink",
                                 system=system)
            new_id = new_canonical_id()
            pairs = [(system, vendor_id)]
            children = self._children_of(conn, entity, current, system)
            xref.move(conn, entity, pairs, new_id)
            sources.relink(conn, entity, pairs, new_id)
            writer.recompute(self._context(conn), [new_id, current])
            self._move_children(conn, entity, children, new_id)  # once the new parent row exists
            log_id = matches.log_link(conn, entity, "unlink", current, new_id,
                                      {"moved": pairs, "children": children}, self.actor)
            audit.append(conn, actor=self.actor, action="record.unlink", subject=f"{entity} {current}",
                         detail={"system": system, "new_record": new_id, "link_log": log_id})
        return LinkChange(log_id, entity, current, new_id, pairs)

    def undo(self, log_id: int) -> LinkChange:
        """Reverse a merge (restoring both records and their xrefs) or an unlink (linking back)."""
        with self.store.begin() as conn:
            entries = matches.link_entries(conn, entry_id=log_id)
            if not entries:
                raise NotFound(f"no merge or unlink number {log_id}")
            entry = entries[0]
            if entry["undone_at"] is not None:
                raise FatalError(f"merge/unlink {log_id} was already undone")
            entity, survivor, other = entry["entity"], entry["survivor_id"], entry["other_id"]
            pairs = [tuple(p) for p in entry["detail"]["moved"]]
            children = entry["detail"].get("children", {})
            writer = self._writer(entity)
            if entry["action"] == "merge":
                # The other record comes back with exactly the xrefs, sources and children it had.
                self._move_children(conn, entity, children, other)
                xref.move(conn, entity, pairs, other)
                sources.relink(conn, entity, pairs, other)
                writer.recompute(self._context(conn), [other, survivor], revive={other})
                action = "record.unmerge"
            else:
                xref.move(conn, entity, pairs, survivor)
                sources.relink(conn, entity, pairs, survivor)
                self._move_children(conn, entity, children, survivor)
                self._tombstone(conn, writer, _active(conn, entity, other), survivor)
                writer.recompute(self._context(conn), [survivor])
                action = "record.relink"
            if review_id := entry["detail"].get("review"):
                matches.decide(conn, review_id, "pending", self.actor)  # the steward's question is open again
            matches.mark_undone(conn, log_id)
            audit.append(conn, actor=self.actor, action=action, subject=f"{entity} {survivor}",
                         detail={"other": other, "xrefs": len(pairs), "link_log": log_id})
        return LinkChange(log_id, entity, survivor, other, pairs)

    def link_review(self, review_id: int) -> LinkChange:
        """Accept a review-queue pair: the newer record is merged into the existing candidate."""
        with self.store.begin() as conn:
            # One transaction: the decision is never recorded without its merge, nor the merge without it.
            pair = self._pending(conn, review_id)
            change = self._merge(conn, pair["entity"], pair["candidate_id"], pair["canonical_id"], review_id)
            matches.decide(conn, review_id, "linked", self.actor)
        return change

    def reject_review(self, review_id: int) -> dict[str, Any]:
        """Decide that a review-queue pair are different records."""
        with self.store.begin() as conn:
            pair = self._pending(conn, review_id)
            matches.decide(conn, review_id, "rejected", self.actor)
            audit.append(conn, actor=self.actor, action="match.reject", subject=f"{pair['entity']} {pair['canonical_id']}",
                         detail={"candidate": pair["candidate_id"], "review": review_id, "score": pair["score"]})
        return pair

    def _tombstone(self, conn: sa.Connection, writer: GoldenWriter, record: dict[str, Any], into: str) -> None:
        writer.write(self._context(conn), [{**record, "status": "merged", "merged_into": into, "changed_by": self.actor,
                             "run_id": None}], {record["canonical_id"]: record})

    @staticmethod
    def _pending(conn: sa.Connection, review_id: int) -> dict[str, Any]:
        pair = matches.review(conn, review_id)
        if pair is None:
            raise NotFound(f"no review-queue entry {review_id}")
        if pair["status"] != "pending":
            raise FatalError(f"review-queue entry {review_id} is already {pair['status']}")
        return pair

    # -- repeating groups follow the source record they came from ---------------------------------
    @staticmethod
    def _children_of(conn: sa.Connection, entity: str, canonical_id: str,
                     system: str | None = None) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for coll in golden.collections(entity):
            table = _T[child_table_name(entity, coll)]
            stmt = sa.select(table.c.id).where(table.c.canonical_id == canonical_id)
            if system is not None:
                stmt = stmt.where(table.c.system == system)
            ids = [r.id for r in conn.execute(stmt)]
            if ids:
                found[coll] = ids
        return found

    @staticmethod
    def _move_children(conn: sa.Connection, entity: str, children: dict[str, list[int]], to: str) -> None:
        for coll, ids in children.items():
            table = _T[child_table_name(entity, coll)]
            conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(canonical_id=to))
