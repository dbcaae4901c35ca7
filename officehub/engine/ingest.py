"""Ingest: a vendor stream → mapping → validation → xref → golden records in the hub store.

Each batch is stored in one hub-store transaction together with its quarantined
rows and the connector's cursor, so a crash at any point resumes from the last
stored batch with nothing lost and nothing stored twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from canonical_model import SCHEMA_VERSION, layout
from connectors import ReadBatch, ReadOptions
from connectors.jsonable import jsonable
from officehub.config import PipelineConfig, Project
from officehub.mapping import InboundMapping, MappedBatch
from officehub.store import bookkeeping as bk
from officehub.store import golden, xref
from officehub.store.hub import HubStore
from officehub.store.schema import child_table_name

Progress = Callable[[bk.RunMetrics], None]


def _raw_rows(batch: pa.RecordBatch, indexes: list[int]) -> list[dict[str, Any]]:
    """Vendor rows as JSON can keep them, converted in one pass over the batch."""
    taken = batch.take(pa.array(indexes, pa.int64())).to_pylist() if indexes else []
    return [{k: jsonable(v) for k, v in row.items()} for row in taken]


@dataclass
class _Outcome:
    written: int = 0
    unchanged: int = 0


class Ingest:
    """One ingest pipeline, compiled once, run batch by batch."""

    kind = "ingest"

    def __init__(self, project: Project, store: HubStore, name: str, pipeline: PipelineConfig) -> None:
        self.project, self.store, self.name = project, store, name
        self.spec = project.config.mappings[pipeline.mapping]
        self.mapping = InboundMapping(self.spec, pipeline.mapping)
        self.options = ReadOptions(tuple(self.spec.key), self.spec.cursor,
                                   pipeline.batch_size or project.config.hub.batch_size)
        self.entity_columns = golden.entity_columns(self.spec.entity)
        # The columns ingest and publish look records up by, for planner statistics.
        self._grown_tables = {"xref": ("system", "entity", "vendor_id", "canonical_id")}
        if self.spec.collection:
            child = child_table_name(self.spec.entity, self.spec.collection)
            self._grown_tables[child] = ("system", "vendor_id", "canonical_id")
        else:
            self._grown_tables[self.spec.entity] = ("canonical_id", "change_seq")

    def estimate(self) -> int | None:
        """Rows the source holds, for the progress bar (None if unknown)."""
        with self.project.connector(self.spec.system) as source:
            return source.estimate_rows(self.spec.stream)

    def run(self, run_id: int, progress: Progress) -> bk.RunMetrics:
        """Read every batch after the checkpoint and store it."""
        total = bk.RunMetrics()
        with self.store.begin() as conn:
            cursor = bk.get_checkpoint(conn, self.name)
        with self.project.connector(self.spec.system) as source:
            for batch in source.read(self.spec.stream, cursor, self.options):
                total.add(self.store_batch(batch, run_id, total))
                progress(total)
        return total

    def store_batch(self, rb: ReadBatch, run_id: int, total: bk.RunMetrics) -> bk.RunMetrics:
        """Map, validate and store one batch with its quarantine and cursor, in one transaction."""
        mapped = self.mapping.apply(rb.batch)
        failed = list(mapped.errors)
        bad = [bk.Quarantined(rb.positions[i], mapped.errors[i], raw)
               for i, raw in zip(failed, _raw_rows(rb.batch, failed))]
        bad += [bk.Quarantined(r.position, r.reason, r.raw) for r in rb.rejects]
        positions = [rb.positions[i] for i in mapped.rows]
        with self.store.begin() as conn:
            outcome = self.store_mapped(conn, mapped, positions, bad, lambda i: _raw_rows(rb.batch, [mapped.rows[i]])[0])
            bk.quarantine(conn, run_id, self.name, self.spec.system, self.spec.stream, bad)
            bk.set_checkpoint(conn, self.name, rb.cursor, run_id)
            metrics = bk.RunMetrics(records_read=rb.num_rows, records_written=outcome.written,
                                    records_unchanged=outcome.unchanged, records_quarantined=len(bad))
            after = bk.RunMetrics(**vars(total))
            after.add(metrics)
            bk.record_progress(conn, run_id, after)
        self.store.grew(self._grown_tables, outcome.written)
        return metrics

    def store_mapped(self, conn: sa.Connection, mapped: MappedBatch, positions: list[str],
                     bad: list[bk.Quarantined], raw: Callable[[int], dict]) -> _Outcome:
        """Store rows that mapped cleanly; rows that cannot be linked join ``bad``."""
        if self.spec.collection:
            return self._store_children(conn, mapped, positions, bad, raw)
        return self._store_records(conn, mapped, positions, bad, raw)

    def _latest_per_key(self, keys: list[str]) -> list[int]:
        """Row indexes with the last occurrence of each key: a later row supersedes an earlier one."""
        return sorted({key: i for i, key in enumerate(keys)}.values())

    def _store_records(self, conn: sa.Connection, mapped: MappedBatch, positions: list[str],
                       bad: list[bk.Quarantined], raw: Callable[[int], dict]) -> _Outcome:
        system, entity = self.spec.system, self.spec.entity
        rows = self._latest_per_key(mapped.vendor_ids)
        outcome = _Outcome(unchanged=len(mapped.vendor_ids) - len(rows))
        ids = xref.lookup(conn, system, entity, mapped.vendor_ids)
        if self.spec.extends:
            orphans = [i for i in rows if mapped.vendor_ids[i] not in ids]
            bad += [bk.Quarantined(positions[i], f"no {entity} from {system} with this key yet "
                                   "(replay the quarantine once it has arrived)", raw(i)) for i in orphans]
            rows = [i for i in rows if mapped.vendor_ids[i] in ids]
        known = set(ids.values())
        if not self.spec.extends:
            ids.update(xref.link_new(conn, system, entity, [v for v in mapped.vendor_ids if v not in ids]))
        # Only records this system supplied before can have a golden row to merge with.
        existing = golden.fetch(conn, entity, "canonical_id",
                                [ids[mapped.vendor_ids[i]] for i in rows if ids[mapped.vendor_ids[i]] in known])
        values = {name: col.to_pylist() for name, col in mapped.columns.items()}
        changes = []
        for i in rows:
            cid = ids[mapped.vendor_ids[i]]
            incoming = {name: col[i] for name, col in values.items()}
            before = existing.get(cid)
            digest = golden.content_hash({**(before or {}), **incoming}, self.entity_columns)
            if before is not None and before["content_hash"] == digest:
                outcome.unchanged += 1
                continue
            changes.append({"canonical_id": cid, "version": (before["version"] if before else 0) + 1,
                            "content_hash": digest, **incoming})
        self._stamp(conn, changes)
        golden.upsert(conn, entity, ["canonical_id"], changes)
        outcome.written += len(changes)
        return outcome

    def _stamp(self, conn: sa.Connection, changes: list[dict[str, Any]]) -> None:
        if not changes:
            return
        first = golden.next_change_seqs(conn, self.spec.entity, len(changes))
        moment = bk.now()
        for offset, change in enumerate(changes):
            change.update(change_seq=first + offset, schema_version=SCHEMA_VERSION, updated_at=moment)

    def _store_children(self, conn: sa.Connection, mapped: MappedBatch, positions: list[str],
                        bad: list[bk.Quarantined], raw: Callable[[int], dict]) -> _Outcome:
        system, entity, coll = self.spec.system, self.spec.entity, self.spec.collection
        assert coll is not None and mapped.parent_ids is not None
        rows = self._latest_per_key(mapped.vendor_ids)
        outcome = _Outcome(unchanged=len(mapped.vendor_ids) - len(rows))
        parents = xref.lookup(conn, system, entity, mapped.parent_ids)
        orphans = [i for i in rows if mapped.parent_ids[i] not in parents]
        bad += [bk.Quarantined(positions[i], f"no {entity} from {system} with parent key "
                               f"{self.spec.parent_key} yet (replay the quarantine once it has arrived)", raw(i))
                for i in orphans]
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
            changes.append({"system": system, "vendor_id": mapped.vendor_ids[i], "content_hash": digest, **child})
        golden.upsert(conn, child_table_name(entity, coll), ["system", "vendor_id"], changes)
        self._bump_parents(conn, sorted({c["canonical_id"] for c in changes}))
        outcome.written += len(changes)
        return outcome

    def _bump_parents(self, conn: sa.Connection, parent_ids: list[str]) -> None:
        if not parent_ids:
            return
        first = golden.next_change_seqs(conn, self.spec.entity, len(parent_ids))
        moment = bk.now()
        golden.bump(conn, self.spec.entity,
                    [{"cid": cid, "seq": first + k, "at": moment} for k, cid in enumerate(parent_ids)])
