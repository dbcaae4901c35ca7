"""Golden records from their sources: survivorship, status, lineage, history, match keys.

Every path that changes what the hub believes about a record — an ingest batch, a
delete, a merge or unmerge, an erasure — ends here: the record's live source rows
go through the entity's survivorship rules, and a record whose values or status
changed gets a new version (the old one moves to the history), a new change number
(so publishes send it) and fresh match keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from officehub.canonical_model import SCHEMA_VERSION
from officehub.engine.context import RunContext
from officehub.identity import EntityIdentity, Matcher, SourceRecord, Survived, column_groups, survive
from officehub.identity.holds import legal_holds
from officehub.identity.match_model import MatchModel
from officehub.store import golden, matches, sources

#: Statuses of a golden record that publishes send as deletes.
GONE = frozenset({"purged", "erased", "merged"})


@dataclass
class Written:
    """What one recompute changed."""

    versions: int = 0
    deleted: list[str] = field(default_factory=list)
    held: dict[str, list[str]] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)


class GoldenWriter:
    """Writes the golden records of one entity, compiled once per pipeline or command."""

    def __init__(self, entity: str, identity: EntityIdentity, grace: timedelta,
                 model: MatchModel | None = None) -> None:
        self.entity, self.identity, self.grace = entity, identity, grace
        self.columns = golden.entity_columns(entity)
        rules = identity.match
        self.matcher = Matcher(entity, rules, model) if rules.matches else None

    # -- values -------------------------------------------------------------------------
    def digest(self, values: dict[str, Any]) -> str:
        """The content hash of a record's canonical values."""
        return golden.content_hash(values, self.columns)

    def _survive(self, live: list[dict[str, Any]], previous_at: datetime | None) -> Survived:
        records = [SourceRecord(s["system"], s["vendor_id"], _aware(s["changed_at"]), s["run_id"],
                                {c: s[c] for c in self.columns}) for s in live]
        return survive(self.entity, records, self.identity.survivorship,
                       None if previous_at is None else _aware(previous_at))

    # -- writing --------------------------------------------------------------------------
    def recompute(self, ctx: RunContext, canonical_ids: list[str], *, revive: frozenset[str] | set[str] = frozenset(),
                  edits: dict[str, tuple[dict[str, Any], dict[str, Any]]] | None = None,
                  known: dict[str, list[dict[str, Any]]] | None = None) -> Written:
        """Bring the golden records of ``canonical_ids`` in line with their source rows.

        Records merged away or erased stay as they are, except those in ``revive`` (an unmerge).
        ``edits`` holds, per canonical id, a system's previous and new values, for telling
        conflicting edits apart from ordinary ones. ``known`` holds the caller's up-to-date
        source rows of some ids (an ingest batch has just read and written them), which are
        then not read again.
        """
        out = Written()
        ids = list(dict.fromkeys(canonical_ids))
        if not ids:
            return out
        conn = ctx.conn
        current = golden.fetch(conn, self.entity, "canonical_id", ids)
        known = known or {}
        by_id = {cid: known[cid] for cid in ids if cid in known}
        by_id.update(sources.by_canonical_id(conn, self.entity, [cid for cid in ids if cid not in known]))
        moment = ctx.now()
        rows: list[dict[str, Any]] = []
        for cid in ids:
            before = current.get(cid)
            if before is not None and before["status"] in GONE and cid not in revive:
                continue  # merged, purged or erased records are not brought back by a late source row
            if before is not None and before["sole_system"] is not None:
                continue  # a sole-form record is its own copy: its values change only with it (ADR 0018)
            live = [s for s in by_id.get(cid, []) if s["deleted_at"] is None]
            if not live:
                row = self._soft_delete(cid, before, moment, out)
            else:
                row = self._survived(cid, before, live, out, (edits or {}).get(cid))
            if row is not None:
                rows.append({**row, "changed_by": ctx.actor, "run_id": ctx.run_id})
        self.write(ctx, rows, current)
        out.versions = len(rows)
        return out

    def _soft_delete(self, cid: str, before: dict[str, Any] | None, moment: datetime,
                     out: Written) -> dict[str, Any] | None:
        if before is None or before["status"] != "active":
            return None
        holds = legal_holds(self.entity, before)
        if holds:
            out.held[cid] = holds  # every source deleted it, but a legal hold keeps it
            return None
        out.deleted.append(cid)
        return {**before, "status": "deleted", "deleted_at": moment, "purge_after": moment + self.grace}

    def _survived(self, cid: str, before: dict[str, Any] | None, live: list[dict[str, Any]], out: Written,
                  edit: tuple[dict[str, Any], dict[str, Any]] | None) -> dict[str, Any] | None:
        if len(live) == 1:
            # One source: its values are the record's, and its content hash (over the same
            # columns) is the record's too. Most records of a hub fed by one system take this way.
            source = live[0]
            values, digest, lineage = {c: source.get(c) for c in self.columns}, source["content_hash"], None
        else:
            result = self._survive(live, before["updated_at"] if before else None)
            conflicts = sorted(set(result.conflicts) | self._conflicting(before, edit))
            lineage = json.dumps({"fields": {k: list(v) for k, v in sorted(result.lineage.items())},
                                  "conflicts": conflicts}, sort_keys=True)
            if conflicts:
                out.conflicts[cid] = conflicts
            values, digest = result.values, self.digest(result.values)
        if before is not None and before["status"] == "active" and before["content_hash"] == digest:
            # Same values: the system that first supplied them stays on record as their source.
            return None
        return {**(before or {}), **values, "canonical_id": cid, "content_hash": digest,
                "status": "active", "deleted_at": None, "purge_after": None, "merged_into": None,
                "lineage": lineage}

    def _conflicting(self, golden_before: dict[str, Any] | None,
                     edit: tuple[dict[str, Any], dict[str, Any]] | None) -> set[str]:
        """Fields a system changed while the hub's value had changed too since that system's copy.

        A three-way comparison: the system's previous values are the common base; the hub's
        value (from another system) and the system's new value both moved away from it, and
        not to the same value. Survivorship then decides, and the conflict is recorded.
        """
        if golden_before is None or edit is None:
            return set()
        base, new = edit
        found = set()
        for group, columns in column_groups(self.entity):
            if not any(c in new for c in columns):
                continue
            ours = tuple(golden_before.get(c) for c in columns)
            theirs = tuple(new.get(c) for c in columns)
            was = tuple(base.get(c) for c in columns)
            if ours != was and theirs != was and theirs != ours:
                found.add(group)
        return found

    def write(self, ctx: RunContext, rows: list[dict[str, Any]],
              current: dict[str, dict[str, Any]] | None = None) -> None:
        """Store new versions of golden rows: archive the old ones, number the changes, refresh keys.

        Each row names who changed it and in which run (``changed_by``, ``run_id``).
        """
        if not rows:
            return
        conn = ctx.conn
        current = current if current is not None else golden.fetch(
            conn, self.entity, "canonical_id", [r["canonical_id"] for r in rows])
        golden.archive(conn, self.entity, [r["canonical_id"] for r in rows if r["canonical_id"] in current])
        first = golden.next_change_seqs(conn, self.entity, len(rows))
        moment = ctx.now()
        stored = []
        for offset, row in enumerate(rows):
            before = current.get(row["canonical_id"])
            stored.append({**{c: row.get(c) for c in self.columns}, **{k: row.get(k) for k in _STATE},
                           **{k: row[k] for k in _SOLE if k in row},
                           "canonical_id": row["canonical_id"], "content_hash": row["content_hash"],
                           "version": (before["version"] if before else 0) + 1, "change_seq": first + offset,
                           "schema_version": SCHEMA_VERSION, "updated_at": moment})
        golden.upsert(conn, self.entity, ["canonical_id"], [r for r in stored if r["version"] > 1])
        golden.upsert(conn, self.entity, ["canonical_id"], [r for r in stored if r["version"] == 1], new=True)
        self.refresh_keys(conn, stored)

    def refresh_keys(self, conn: sa.Connection, rows: list[dict[str, Any]], *, replace: bool = True) -> None:
        """Match keys of active records; none for records that are gone or deleted.

        ``replace=False`` only adds them, for records known to have none (after ``clear_keys``).
        """
        if self.matcher is None or not rows:
            return
        keys = {r["canonical_id"]: self.matcher.index_keys(r) if r.get("status", "active") == "active" else []
                for r in rows}
        (matches.replace_keys if replace else matches.add_keys)(conn, self.entity, keys)

    def append_new(self, ctx: RunContext, columns: dict[str, pa.Array], indexes: list[int],
                   canonical_ids: list[str], digests: list[str], *,
                   sole: tuple[str, list[str], pa.Array] | None = None) -> None:
        """Golden records created in this batch from one source each, as Arrow columns (the fast path).

        ``sole`` (system, vendor ids, change times) stores them in the sole form: the golden
        row is that system's copy too, with no source row and no cross-reference (ADR 0018).
        """
        if not indexes:
            return
        conn = ctx.conn
        count = len(indexes)
        take = pa.array(indexes, pa.int64())
        first = golden.next_change_seqs(conn, self.entity, count)
        moment = ctx.now()
        batch = {
            **{name: col.take(take) for name, col in columns.items()},
            "canonical_id": pa.array(canonical_ids, pa.string()), "content_hash": pa.array(digests, pa.string()),
            "version": pa.array([1] * count, pa.int64()),
            "change_seq": pa.array(range(first, first + count), pa.int64()),
            "schema_version": pa.array([SCHEMA_VERSION] * count, pa.int64()),
            "updated_at": pa.array([moment] * count, pa.timestamp("us", tz="UTC")),
            "status": pa.array(["active"] * count, pa.string()),
            "changed_by": pa.array([ctx.actor] * count, pa.string()),
            "run_id": pa.array([ctx.run_id] * count, pa.int64()),
        }
        if sole is not None:
            system, vendor_ids, changed_at = sole
            batch |= {"sole_system": pa.array([system] * count, pa.string()),
                      "sole_vendor_id": pa.array(vendor_ids, pa.string()), "sole_changed_at": changed_at}
        golden.append(conn, self.entity, batch)
        if self.matcher is not None:
            self.refresh_keys(conn, pa.Table.from_pydict(batch).to_pylist())

    def purge_due(self, ctx: RunContext) -> list[str]:
        """Purge soft-deleted records whose grace period has ended; returns their ids."""
        due = [r["canonical_id"] for r in golden.due_for_purge(ctx.conn, self.entity, ctx.now())]
        return self.tombstone(ctx, due, "purged")

    def tombstone(self, ctx: RunContext, canonical_ids: list[str], status: str) -> list[str]:
        """Remove every value of these records from the hub, keeping a tombstone version.

        The tombstone's new change number makes publishes send the deletion to every
        destination; history, source rows and repeating groups go. Records under a legal
        hold are left alone; returns the ids tombstoned.
        """
        conn = ctx.conn
        current = golden.fetch(conn, self.entity, "canonical_id", canonical_ids)
        done = [cid for cid, row in current.items() if not legal_holds(self.entity, row)]
        if not done:
            return []
        empty = dict.fromkeys(self.columns)
        self.write(ctx, [{**empty, "canonical_id": cid, "content_hash": self.digest(empty), "status": status,
                          "deleted_at": current[cid]["deleted_at"] or ctx.now(), "purge_after": None,
                          "merged_into": None, "lineage": None, "changed_by": ctx.actor, "run_id": ctx.run_id}
                          for cid in done], current)
        golden.forget(conn, self.entity, done)
        for cid in done:
            sources.erase(conn, self.entity, cid)
        return done


def _aware(moment: datetime) -> datetime:
    """A change time comparable with any other: SQLite hands back naive UTC times."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


_STATE = ("status", "merged_into", "deleted_at", "purge_after", "changed_by", "run_id", "lineage")
#: Sole-form bookkeeping a caller may set on a new version (ADR 0018); left as stored otherwise.
_SOLE = ("sole_changed_at",)
