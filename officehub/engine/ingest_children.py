"""Ingest of a repeating group: rows that join their parent record (``collection`` in the mapping).

A child row has no golden record of its own: it is keyed by its system and vendor id, joins
the parent its parent key names (through the parent's link), and a changed row gives its
parent a new version, so a publish sends the parent with its group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from officehub.canonical_model import layout
from officehub.config import PipelineConfig, Project
from officehub.engine.context import RunContext
from officehub.engine.ingest import Ingest
from officehub.engine.ingest_batch import BatchOutcome, latest_per_key
from officehub.mapping import MappedBatch
from officehub.store import bookkeeping as bk
from officehub.store import golden, xref
from officehub.store.hub import HubStore
from officehub.store.schema import child_table_name


class ChildIngest(Ingest):
    """One ingest pipeline of a repeating group's rows."""

    records = False

    def _looked_up_tables(self) -> dict[str, tuple[str, ...]]:
        assert self.spec.collection is not None
        return {child_table_name(self.spec.entity, self.spec.collection): ("system", "vendor_id", "canonical_id")}

    def _store(self, ctx: RunContext, mapped: MappedBatch, positions: list[str], bad: list[bk.Quarantined],
               raw: Callable[[int], dict[str, Any]], digests: list[str] | None,
               new_ids: dict[str, str] | None) -> BatchOutcome:
        """Each row joins its parent record's repeating group; a parent the hub does not hold yet waits."""
        system, entity, coll = self.spec.system, self.spec.entity, self.spec.collection
        assert coll is not None and mapped.parent_ids is not None
        conn = ctx.conn
        rows = latest_per_key(mapped.vendor_ids)
        outcome = BatchOutcome(unchanged=len(mapped.vendor_ids) - len(rows))
        parents = xref.lookup(conn, system, entity, mapped.parent_ids)
        orphans = [i for i in rows if mapped.parent_ids[i] not in parents]
        bad += [bk.Quarantined(positions[i], f"no {entity} from {system} with parent key "
                               f"{self.spec.parent_key} yet (replay the quarantine once it has arrived)", raw(i),
                               mapped.vendor_ids[i]) for i in orphans]
        rows = [i for i in rows if mapped.parent_ids[i] in parents]
        existing = golden.fetch_children(conn, entity, coll, system, [mapped.vendor_ids[i] for i in rows])
        values = {name: col.to_pylist() for name, col in mapped.columns.items()}
        columns = ["canonical_id", *[leaf.column for leaf in layout(entity).collection(coll).fields]]
        changes = []
        for i in rows:
            child = {"canonical_id": parents[mapped.parent_ids[i]], **{n: c[i] for n, c in values.items()}}
            before = existing.get(mapped.vendor_ids[i])
            digest = golden.content_hash({**(before or {}), **child}, columns)
            if before is not None and before["content_hash"] == digest:
                outcome.unchanged += 1
                continue
            outcome.added += before is None
            changes.append({"system": system, "vendor_id": mapped.vendor_ids[i], "content_hash": digest, **child})
        golden.upsert(conn, child_table_name(entity, coll), ["system", "vendor_id"], changes)
        self._bump_parents(ctx, sorted({c["canonical_id"] for c in changes}))
        outcome.written += len(changes)
        return outcome

    def _bump_parents(self, ctx: RunContext, parent_ids: list[str]) -> None:
        """A new version of each parent whose group changed, so a publish sends the group."""
        if not parent_ids:
            return
        golden.archive(ctx.conn, self.spec.entity, parent_ids)
        first = golden.next_change_seqs(ctx.conn, self.spec.entity, len(parent_ids))
        moment = ctx.now()
        golden.bump(ctx.conn, self.spec.entity,
                    [{"cid": cid, "seq": first + k, "at": moment} for k, cid in enumerate(parent_ids)])


def ingest_step(project: Project, store: HubStore, name: str, pipeline: PipelineConfig) -> Ingest:
    """The ingest of ``pipeline``: of records, or of a repeating group's rows."""
    spec = project.config.mappings[pipeline.mapping]
    return (ChildIngest if spec.collection else Ingest)(project, store, name, pipeline)
