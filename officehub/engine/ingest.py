"""Ingest: a vendor stream → mapping → validation → xref → golden records in the hub store.

Each batch is stored in one hub-store transaction together with its quarantined
rows and the connector's cursor, so a crash at any point resumes from the last
stored batch with nothing lost and nothing stored twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.config import PipelineConfig, Project
from officehub.connectors import ReadBatch, ReadOptions
from officehub.connectors.jsonable import jsonable
from officehub.engine import references, tracing
from officehub.engine.context import RunContext
from officehub.engine.drift import guarded
from officehub.engine.echo import echo_columns
from officehub.engine.golden_writer import GoldenWriter, Written
from officehub.engine.ingest_batch import BatchOutcome, BatchRows, ChangeTimes, RecordTarget
from officehub.engine.ingest_layered import store_layered
from officehub.engine.ingest_sole import append_fresh, update_in_place, update_sole
from officehub.engine.ingest_sort import sort_rows
from officehub.engine.prefetch import prefetched
from officehub.mapping import InboundMapping, MappedBatch
from officehub.store import bookkeeping as bk
from officehub.store import flags, golden, in_place, matches, sources, xref
from officehub.store.hub import HubStore
from officehub.store.ids import new_canonical_ids
from officehub.store.schema import source_table_name

log = logging.getLogger(__name__)

Progress = Callable[[bk.RunMetrics], None]
_UTC = pa.timestamp("us", tz="UTC")


def _raw_rows(batch: pa.RecordBatch, indexes: list[int]) -> list[dict[str, Any]]:
    """Vendor rows as JSON can keep them, converted in one pass over the batch."""
    taken = batch.take(pa.array(indexes, pa.int64())).to_pylist() if indexes else []
    return [{k: jsonable(v) for k, v in row.items()} for row in taken]


@dataclass
class Prepared:
    """One batch read, mapped and validated, ready to be stored."""

    read: ReadBatch
    batch: pa.RecordBatch          # the rows read, less those the source reports deleted
    mapped: MappedBatch
    positions: list[str]           # of the mapped rows
    bad: list[bk.Quarantined]
    deleted_ids: list[str]
    source_times: ChangeTimes
    digests: list[str] | None      # content hash of each mapped row (records, not repeating groups)
    new_ids: dict[str, str] | None  # the canonical id each vendor id gets if it is a new record

    def raw(self, i: int) -> dict[str, Any]:
        """The vendor row behind mapped row ``i``, for the quarantine."""
        return _raw_rows(self.batch, [self.mapped.rows[i]])[0]


def _rows_read(rb: ReadBatch) -> int:
    return int(rb.num_rows)


def _through(raw: Callable[[int], dict[str, Any]], kept: list[int]) -> Callable[[int], dict[str, Any]]:
    """``raw`` of a batch that lost rows: row ``i`` of the smaller batch was row ``kept[i]``."""
    return lambda i: raw(kept[i])


def writer_for(project: Project, entity: str) -> GoldenWriter:
    """The golden-record writer of ``entity`` with the project's identity rules."""
    return GoldenWriter(entity, project.config.identity.for_entity(entity),
                        timedelta(days=project.config.hub.delete_grace_days), project.match_model(entity))


class Ingest:
    """One ingest pipeline of records, compiled once, run batch by batch.

    Repeating groups (a mapping with ``collection``) are ingested by :class:`ChildIngest`
    (``officehub.engine.ingest_children``); :func:`ingest_step` picks the class.
    """

    kind = "ingest"
    #: Whether the pipeline stores records (golden rows) rather than rows of a repeating group.
    records = True

    def __init__(self, project: Project, store: HubStore, name: str, pipeline: PipelineConfig) -> None:
        self.project, self.store, self.name, self.pipeline = project, store, name, pipeline
        self.spec = project.config.mappings[pipeline.mapping]
        self.writer = writer_for(project, self.spec.entity)
        self.echo = echo_columns(project, self.spec.system, self.spec.entity)
        self._actor = f"{self.spec.system} (pipeline {name})"
        self._deleted = 0
        self._source_times = ChangeTimes.unknown()
        #: Set-based updates of single-source records (officehub.store.in_place): for runs that
        #: continue from a checkpoint, where a batch is mostly records the hub already holds.
        #: Echo checks, match keys and parent look-ups need each row, so they rule it out.
        self._in_place_possible = self.records and not (self.spec.extends or self.echo
                                                        or self.writer.matcher is not None)
        self._in_place = False
        self.mapping = InboundMapping(self.spec, pipeline.mapping)
        self.options = ReadOptions(tuple(self.spec.key), self.spec.cursor,
                                   pipeline.batch_size or project.config.hub.batch_size)
        self.entity_columns = golden.entity_columns(self.spec.entity)
        self.target = RecordTarget(self.spec.system, self.spec.entity, self.writer, self.echo, self.entity_columns)
        self.references = references.references_of(self.mapping)
        tracing.traced_part(self.mapping, "checks", "apply", "validate", lambda _columns, rows: rows)
        self._grown_tables = {"xref": ("system", "entity", "vendor_id", "canonical_id"), **self._looked_up_tables()}

    def _looked_up_tables(self) -> dict[str, tuple[str, ...]]:
        """The tables an ingest grows, with the columns ingest and publish look rows up by (planner statistics)."""
        tables = {self.spec.entity: ("canonical_id", "change_seq", "sole_system", "sole_vendor_id"),
                  source_table_name(self.spec.entity): ("system", "vendor_id", "canonical_id")}
        if self.writer.matcher is not None:  # each new record's keys: the candidates of the next batches
            tables["match_key"] = ("entity", "key", "value", "canonical_id")
        return tables

    def estimate(self) -> int | None:
        """Rows the source holds, for the progress bar (None if unknown)."""
        with self.project.connector(self.spec.system) as source:
            return source.estimate_rows(self.spec.stream)

    def run(self, run_id: int, progress: Progress) -> bk.RunMetrics:
        """Read every batch after the checkpoint and store it.

        A snapshot pipeline reads the whole stream every run; once the read completed,
        records it no longer contains are deleted (soft, with a grace period).
        """
        total = bk.RunMetrics()
        snapshot = self.pipeline.deletes == "snapshot" and self.records
        with self.store.begin() as conn:
            cursor = None if snapshot else bk.get_checkpoint(conn, self.name)
            if self.records:
                total.records_deleted += self._purge_due(self.context(conn, run_id))
        self._in_place = self._in_place_possible and cursor is not None
        with self.project.connector(self.spec.system) as source:
            source = guarded(source, self, run_id)
            read = tracing.batches("read", source.read(self.spec.stream, cursor, self.options), _rows_read)
            batches = (self.prepare(rb) for rb in read)
            for prepared in prefetched(batches) if source.read_ahead else batches:
                total.add(self.store_batch(prepared, run_id, total, seen=snapshot))
                progress(total)
        if snapshot:
            with self.store.begin() as conn:
                total.records_deleted += self._snapshot_deletes(self.context(conn, run_id))
                bk.record_progress(conn, run_id, total)
            progress(total)
        return total

    def context(self, conn: sa.Connection, run_id: int | None) -> RunContext:
        """This pipeline acting in run ``run_id`` on ``conn``."""
        return RunContext(conn, self._actor, run_id)

    def _snapshot_deletes(self, ctx: RunContext) -> int:
        """Delete this system's records a complete snapshot no longer contains."""
        system, entity = self.spec.system, self.spec.entity
        assert ctx.run_id is not None  # a snapshot is read in a run
        missing = sources.unseen(ctx.conn, entity, system, ctx.run_id)
        if not missing:
            return 0
        live = sources.count_live(ctx.conn, entity, system)
        if len(missing) > self.pipeline.max_delete_fraction * live:
            raise FatalError(f"the snapshot lacks {len(missing)} of {live} records, more than max_delete_fraction "
                             f"{self.pipeline.max_delete_fraction} allows: nothing deleted (an export cut short?)",
                             system=system, stream=self.spec.stream)
        before = self._deleted
        self._delete_sources(ctx, [vid for vid, _ in missing])
        return self._deleted - before

    def _delete_sources(self, ctx: RunContext, vendor_ids: list[str]) -> int:
        """Mark this system's copies deleted and recompute their golden records; returns copies marked.

        Golden records soft-deleted as a result are counted in ``self._deleted``.
        """
        # A deleted sole-form record gets its copy first: the source row keeps the deletion
        # (a legal hold may keep the golden record active) and a return revives it (ADR 0018).
        sole = xref.sole_links(ctx.conn, self.spec.system, self.spec.entity, vendor_ids)
        xref.layer(ctx.conn, self.spec.entity, [link.canonical_id for link in sole.values()])
        affected = sources.mark_deleted(ctx.conn, self.spec.entity, self.spec.system, vendor_ids, ctx.now(),
                                        ctx.run_id)
        self._note(self.writer.recompute(ctx, list(dict.fromkeys(affected))))
        return len(affected)

    def _purge_due(self, ctx: RunContext) -> int:
        """Purge soft-deleted records whose grace period ended (the deletion is then published)."""
        return len(self.writer.purge_due(ctx))

    def prepare(self, rb: ReadBatch) -> Prepared:
        """Everything about one batch that needs no hub store: mapping, validation, hashes.

        Pure with respect to the pipeline's state, so :meth:`run` prepares the next batch in
        a background thread while the current one is being stored.
        """
        batch, positions_all = rb.batch, rb.positions
        deleted_ids: list[str] = []
        mask = self.mapping.deleted(batch)
        if mask is not None and pc.any(mask).as_py():
            deleted_ids = self.mapping.vendor_ids(batch.filter(mask))
            keep = pc.invert(mask)
            positions_all = [p for p, k in zip(positions_all, keep.to_pylist()) if k]
            batch = batch.filter(keep)
        with tracing.stage("map", batch.num_rows) as stage:
            mapped = self.mapping.apply(batch)
            stage.rows_out(len(mapped.rows))
        failed = list(mapped.errors)
        # The vendor id ties a bad row to its record: one open entry per record, closed once it arrives valid.
        failed_ids = self.mapping.vendor_ids(batch.take(pa.array(failed, pa.int64()))) if failed else []
        bad = [bk.Quarantined(positions_all[i], mapped.errors[i], raw, vid)
               for i, raw, vid in zip(failed, _raw_rows(batch, failed), failed_ids)]
        bad += [bk.Quarantined(r.position, r.reason, r.raw) for r in rb.rejects]
        return Prepared(rb, batch, mapped, [positions_all[i] for i in mapped.rows], bad, deleted_ids,
                        self._change_times(batch, mapped),
                        self._digests(mapped) if self.records and not self.references else None,
                        dict(zip(mapped.vendor_ids, new_canonical_ids(len(mapped.vendor_ids))))
                        if self.records else None)

    def store_batch(self, prepared: Prepared, run_id: int, total: bk.RunMetrics,
                    seen: bool = False) -> bk.RunMetrics:
        """Store one prepared batch with its quarantine and cursor, in one transaction."""
        mapped, bad, deleted_ids = prepared.mapped, prepared.bad, prepared.deleted_ids
        self._source_times = prepared.source_times
        with tracing.stage("store", len(prepared.mapped.vendor_ids)) as stage, self.store.begin() as conn:
            ctx = self.context(conn, run_id)
            deleted_before = self._deleted
            outcome = self.store_mapped(ctx, mapped, prepared.positions, bad, prepared.raw,
                                        digests=prepared.digests, new_ids=prepared.new_ids)
            # A deletion the source reports is written when it marks a copy the hub holds; a
            # deletion of a record the hub never had (or already deleted) changes nothing.
            marked = self._delete_sources(ctx, deleted_ids) if deleted_ids else 0
            outcome.written += marked
            outcome.unchanged += len(deleted_ids) - marked
            if seen:
                sources.mark_seen(conn, self.spec.entity, self.spec.system, mapped.vendor_ids, run_id)
            self.record_flags(ctx, mapped)
            bk.quarantine(conn, run_id, self.name, self.spec.system, self.spec.stream, bad)
            # A record stored valid closes its open entry: the source fixed the row.
            bk.close_arrived(conn, self.name, list(set(mapped.vendor_ids) - {q.vendor_id for q in bad}), run_id)
            bk.set_checkpoint(conn, self.name, prepared.read.cursor, run_id)
            metrics = bk.RunMetrics(records_read=prepared.read.num_rows, records_written=outcome.written,
                                    records_unchanged=outcome.unchanged, records_quarantined=len(bad),
                                    records_deleted=self._deleted - deleted_before, records_linked=outcome.linked,
                                    fields_flagged=len(mapped.flags), fields_nulled=mapped.nulled)
            after = bk.RunMetrics(**vars(total))
            after.add(metrics)
            bk.record_progress(conn, run_id, after)
            stage.rows_out(outcome.written)
        self.store.grew(self._grown_tables, outcome.added)
        return metrics

    def record_flags(self, ctx: RunContext, mapped: MappedBatch) -> None:
        """Replace the data-quality flags of the batch's records (fields with ``on_error: flag``)."""
        if self.mapping.flagged_fields:
            assert ctx.run_id is not None  # flags are replaced by a run (an ingest or a replay)
            flags.replace(ctx.conn, entity=self.spec.entity, system=self.spec.system, pipeline=self.name,
                          fields=self.mapping.flagged_fields, vendor_ids=mapped.vendor_ids, flags=mapped.flags,
                          run_id=ctx.run_id)

    def _change_times(self, batch: pa.RecordBatch, mapped: MappedBatch) -> ChangeTimes:
        """When the source itself says each record changed: its cursor column, if that holds times.

        "Most recent" survivorship compares these, so the system that really changed a record
        last wins, not the one whose ingest happened to run last.
        """
        if not self.spec.cursor or not mapped.rows or batch.num_rows == 0:
            return ChangeTimes.unknown()
        column = batch.column(self.spec.cursor)
        try:
            if pa.types.is_date(column.type):
                column = pc.cast(column, pa.timestamp("s"))
            elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                column = pc.cast(column, pa.timestamp("us"))
            elif not pa.types.is_timestamp(column.type):
                return ChangeTimes.unknown()
            # Times without a zone are taken as UTC; none may lie in the future.
            times = pc.cast(column.take(pa.array(mapped.rows, pa.int64())), _UTC)
            moment = pa.scalar(bk.now(), _UTC)
            return ChangeTimes(mapped.vendor_ids, pc.if_else(pc.greater(times, moment), moment, times))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return ChangeTimes.unknown()  # not a time (a sequence number, a text timestamp in another format)

    def store_mapped(self, ctx: RunContext, mapped: MappedBatch, positions: list[str],
                     bad: list[bk.Quarantined], raw: Callable[[int], dict[str, Any]], *,
                     digests: list[str] | None = None, new_ids: dict[str, str] | None = None) -> BatchOutcome:
        """Store rows that mapped cleanly; rows that cannot be linked join ``bad``.

        ``digests`` (each mapped row's content hash) is computed here, and ``new_ids`` (the
        canonical id each vendor id gets if it is a new record) by ``resolve``, unless
        :meth:`prepare` made them ahead.
        """
        if self.references and mapped.vendor_ids:
            resolved = references.resolve(ctx.conn, self.references, mapped, positions, bad, raw)
            digests = None  # the content hash covers the canonical ids, known only now
            mapped, positions = resolved.mapped, resolved.positions
            raw = _through(raw, resolved.kept)
        return self._store(ctx, mapped, positions, bad, raw, digests, new_ids)

    def _store(self, ctx: RunContext, mapped: MappedBatch, positions: list[str], bad: list[bk.Quarantined],
               raw: Callable[[int], dict[str, Any]], digests: list[str] | None,
               new_ids: dict[str, str] | None) -> BatchOutcome:
        """Store one batch's records: sort its rows into groups, then apply each group (ADR 0020).

        Vendor ids new to the hub are resolved (linked to an existing golden record, queued
        for review, or given a new one); a row that did not change is skipped; a record only
        this system supplies is written straight through, the rest go through survivorship.
        (A repeating group's rows are stored by :class:`ChildIngest`.)
        """
        rows = BatchRows(mapped, positions, bad, raw, digests if digests is not None else self._digests(mapped),
                         self._source_times)
        latest = rows.latest()
        outcome = BatchOutcome(unchanged=len(rows.vendor_ids) - len(latest))
        if self._in_place and latest and ctx.conn.dialect.name in in_place.DIALECTS:
            done = self._update_in_place(ctx, rows, latest, outcome)
            latest = [i for i in latest if rows.vendor_ids[i] not in done]
        groups = sort_rows(ctx, self.target, rows, latest, extends=bool(self.spec.extends), new_ids=new_ids)
        outcome.unchanged += groups.erased
        update_sole(ctx, self.target, rows, groups.sole, outcome)
        append_fresh(ctx, self.target, rows, groups.fresh, groups.ids, outcome)
        self._note(store_layered(ctx, self.target, rows, groups, outcome))
        matches.add_reviews(ctx.conn, self.spec.entity, groups.resolution.reviews, ctx.run_id)
        outcome.linked += groups.resolution.matched
        return outcome

    def _update_in_place(self, ctx: RunContext, rows: BatchRows, indexes: list[int],
                         outcome: BatchOutcome) -> set[str]:
        """Update the batch's single-source records set-based; returns the vendor ids it dealt with."""
        result = update_in_place(ctx, self.target, rows, indexes, outcome)
        if len(result.handled) * 2 < len(indexes):
            # Mostly new records (a first load resumed from its checkpoint): staging them
            # buys nothing, so the rest of the run takes the general path.
            self._in_place = False
        return result.handled

    def _digests(self, mapped: MappedBatch) -> list[str]:
        """The content hash of every mapped row (as ``golden.content_hash`` of its values)."""
        return golden.content_hashes(mapped.columns, self.entity_columns, len(mapped.vendor_ids))

    def _note(self, written: Written) -> None:
        """Conflicts and legal holds met in a batch, for the run log (ids only, never values)."""
        for cid, fields in written.conflicts.items():
            log.info("%s %s: sources disagree on %s; resolved by survivorship", self.spec.entity, cid,
                     ", ".join(fields))
        for cid in written.held:
            log.warning("%s %s: every source deleted it, but a legal hold keeps it", self.spec.entity, cid)
        self._deleted += len(written.deleted)
