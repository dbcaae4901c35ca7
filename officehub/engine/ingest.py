"""Ingest: a vendor stream → mapping → validation → xref → golden records in the hub store.

Each batch is stored in one hub-store transaction together with its quarantined
rows and the connector's cursor, so a crash at any point resumes from the last
stored batch with nothing lost and nothing stored twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.config import PipelineConfig, Project
from officehub.connectors import ReadBatch, ReadOptions
from officehub.connectors.jsonable import jsonable
from officehub.engine import references
from officehub.engine.echo import echo_columns, echo_hash
from officehub.engine.golden_writer import GoldenWriter, Written
from officehub.engine.prefetch import prefetched
from officehub.engine.resolve import resolve
from officehub.mapping import InboundMapping, MappedBatch
from officehub.store import bookkeeping as bk
from officehub.store import flags, golden, in_place, matches, sources, xref
from officehub.store.hub import HubStore
from officehub.store.ids import new_canonical_ids
from officehub.store.schema import source_table_name

log = logging.getLogger(__name__)

Progress = Callable[[bk.RunMetrics], None]


def _raw_rows(batch: pa.RecordBatch, indexes: list[int]) -> list[dict[str, Any]]:
    """Vendor rows as JSON can keep them, converted in one pass over the batch."""
    taken = batch.take(pa.array(indexes, pa.int64())).to_pylist() if indexes else []
    return [{k: jsonable(v) for k, v in row.items()} for row in taken]


class _Records(Mapping[str, dict[str, Any]]):
    """The batch's records by vendor id, each built as a dict only when something asks for it."""

    def __init__(self, vendor_ids: list[str], columns: dict[str, pa.Array], rows: list[int]) -> None:
        self._columns = columns
        self._values: dict[str, list[Any]] | None = None  # Python lists, made on first use only
        self._row = {vendor_ids[i]: i for i in rows}

    def __getitem__(self, vendor_id: str) -> dict[str, Any]:
        i = self._row[vendor_id]
        if self._values is None:
            self._values = {name: col.to_pylist() for name, col in self._columns.items()}
        return {name: col[i] for name, col in self._values.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


_UTC = pa.timestamp("us", tz="UTC")


class ChangeTimes:
    """When the source says each mapped row changed (null where it does not say), in UTC."""

    def __init__(self, vendor_ids: list[str], times: pa.Array | None) -> None:
        self._vendor_ids, self._times = vendor_ids, times
        self._by_id: dict[str, datetime] | None = None

    @classmethod
    def unknown(cls) -> ChangeTimes:
        """The source gives no change times."""
        return cls([], None)

    def take(self, indexes: list[int], default: datetime) -> pa.Array:
        """The times of mapped rows ``indexes``, ``default`` where unknown."""
        if self._times is None:
            return pa.array([default] * len(indexes), _UTC)
        return pc.fill_null(self._times.take(pa.array(indexes, pa.int64())), pa.scalar(default, _UTC))

    def get(self, vendor_id: str, default: datetime) -> datetime:
        """The time of ``vendor_id``'s row (its last one in the batch), ``default`` where unknown."""
        if self._times is None:
            return default
        if self._by_id is None:
            self._by_id = {vid: t for vid, t in zip(self._vendor_ids, self._times.to_pylist()) if t is not None}
        return self._by_id.get(vendor_id, default)


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


@dataclass
class BatchOutcome:
    """What storing one batch did, counted by record."""

    written: int = 0
    unchanged: int = 0
    linked: int = 0
    added: int = 0  # rows new to the hub's tables (updates do not change the planner's picture)


def _after(copies: dict[str, list[dict[str, Any]]], changed: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The copies of the changed records as they are once ``changed`` is written.

    A record is left out (to be read afresh) unless each of its changed copies was among those read.
    """
    by_record: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for row in changed:
        by_record.setdefault(row["canonical_id"], {})[(row["system"], row["vendor_id"])] = row
    after = {}
    for cid, new in by_record.items():
        merged, found = [], 0
        for copy in copies.get(cid, ()):
            update = new.get((copy["system"], copy["vendor_id"]))
            if update is None:
                merged.append(copy)  # unchanged copies are only read, never written to
            else:
                merged.append({**copy, **update})
                found += 1
        if found == len(new):
            after[cid] = merged
    return after


def writer_for(project: Project, entity: str) -> GoldenWriter:
    """The golden-record writer of ``entity`` with the project's identity rules."""
    return GoldenWriter(entity, project.config.identity.for_entity(entity),
                        timedelta(days=project.config.hub.delete_grace_days))


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
        self.references = references.references_of(self.mapping)
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
                total.records_deleted += self._purge_due(conn, run_id)
        self._in_place = self._in_place_possible and cursor is not None
        with self.project.connector(self.spec.system) as source:
            batches = (self.prepare(rb) for rb in source.read(self.spec.stream, cursor, self.options))
            for prepared in prefetched(batches):
                total.add(self.store_batch(prepared, run_id, total, seen=snapshot))
                progress(total)
        if snapshot:
            with self.store.begin() as conn:
                total.records_deleted += self._snapshot_deletes(conn, run_id)
                bk.record_progress(conn, run_id, total)
            progress(total)
        return total

    def _snapshot_deletes(self, conn: sa.Connection, run_id: int) -> int:
        """Delete this system's records a complete snapshot no longer contains."""
        system, entity = self.spec.system, self.spec.entity
        missing = sources.unseen(conn, entity, system, run_id)
        if not missing:
            return 0
        live = sources.count_live(conn, entity, system)
        if len(missing) > self.pipeline.max_delete_fraction * live:
            raise FatalError(f"the snapshot lacks {len(missing)} of {live} records, more than max_delete_fraction "
                             f"{self.pipeline.max_delete_fraction} allows: nothing deleted (an export cut short?)",
                             system=system, stream=self.spec.stream)
        before = self._deleted
        self._delete_sources(conn, [vid for vid, _ in missing], run_id)
        return self._deleted - before

    def _delete_sources(self, conn: sa.Connection, vendor_ids: list[str], run_id: int | None) -> int:
        """Mark this system's copies deleted and recompute their golden records; returns copies marked.

        Golden records soft-deleted as a result are counted in ``self._deleted``.
        """
        # A deleted sole-form record gets its copy first: the source row keeps the deletion
        # (a legal hold may keep the golden record active) and a return revives it (ADR 0018).
        sole = xref.sole_links(conn, self.spec.system, self.spec.entity, vendor_ids)
        xref.layer(conn, self.spec.entity, [link.canonical_id for link in sole.values()])
        affected = sources.mark_deleted(conn, self.spec.entity, self.spec.system, vendor_ids, bk.now(), run_id)
        self._note(self.writer.recompute(conn, list(dict.fromkeys(affected)), changed_by=self._actor, run_id=run_id))
        return len(affected)

    def _purge_due(self, conn: sa.Connection, run_id: int) -> int:
        """Purge soft-deleted records whose grace period ended (the deletion is then published)."""
        return len(self.writer.purge_due(conn, changed_by=self._actor, run_id=run_id))

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
        mapped = self.mapping.apply(batch)
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
        with self.store.begin() as conn:
            deleted_before = self._deleted
            outcome = self.store_mapped(conn, mapped, prepared.positions, bad, prepared.raw, run_id,
                                        digests=prepared.digests, new_ids=prepared.new_ids)
            # A deletion the source reports is written when it marks a copy the hub holds; a
            # deletion of a record the hub never had (or already deleted) changes nothing.
            marked = self._delete_sources(conn, deleted_ids, run_id) if deleted_ids else 0
            outcome.written += marked
            outcome.unchanged += len(deleted_ids) - marked
            if seen:
                sources.mark_seen(conn, self.spec.entity, self.spec.system, mapped.vendor_ids, run_id)
            self.record_flags(conn, mapped, run_id)
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
        self.store.grew(self._grown_tables, outcome.added)
        return metrics

    def record_flags(self, conn: sa.Connection, mapped: MappedBatch, run_id: int) -> None:
        """Replace the data-quality flags of the batch's records (fields with ``on_error: flag``)."""
        if self.mapping.flagged_fields:
            flags.replace(conn, entity=self.spec.entity, system=self.spec.system, pipeline=self.name,
                          fields=self.mapping.flagged_fields, vendor_ids=mapped.vendor_ids, flags=mapped.flags,
                          run_id=run_id)

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

    def store_mapped(self, conn: sa.Connection, mapped: MappedBatch, positions: list[str],
                     bad: list[bk.Quarantined], raw: Callable[[int], dict], run_id: int | None = None, *,
                     digests: list[str] | None = None, new_ids: dict[str, str] | None = None) -> BatchOutcome:
        """Store rows that mapped cleanly; rows that cannot be linked join ``bad``.

        ``digests`` (each mapped row's content hash) is computed here, and ``new_ids`` (the
        canonical id each vendor id gets if it is a new record) by ``resolve``, unless
        :meth:`prepare` made them ahead.
        """
        if self.references and mapped.vendor_ids:
            resolved = references.resolve(conn, self.references, mapped, positions, bad, raw)
            digests = None  # the content hash covers the canonical ids, known only now
            mapped, positions = resolved.mapped, resolved.positions
            raw = (lambda i, before=raw, kept=resolved.kept: before(kept[i]))  # noqa: E731 - binds the loop values
        return self._store(conn, mapped, positions, bad, raw, run_id, digests, new_ids)

    def _store(self, conn: sa.Connection, mapped: MappedBatch, positions: list[str], bad: list[bk.Quarantined],
               raw: Callable[[int], dict], run_id: int | None, digests: list[str] | None,
               new_ids: dict[str, str] | None) -> BatchOutcome:
        """Store one batch's mapped rows (records here; a repeating group's rows in :class:`ChildIngest`)."""
        digests = digests if digests is not None else self._digests(mapped)
        return self._store_records(conn, mapped, positions, bad, raw, run_id, digests, new_ids)

    def _latest_per_key(self, keys: list[str]) -> list[int]:
        """Row indexes with the last occurrence of each key: a later row supersedes an earlier one."""
        return sorted({key: i for i, key in enumerate(keys)}.values())

    def _store_records(self, conn: sa.Connection, mapped: MappedBatch, positions: list[str],
                       bad: list[bk.Quarantined], raw: Callable[[int], dict], run_id: int | None,
                       all_digests: list[str], new_ids: dict[str, str] | None) -> BatchOutcome:
        """Source rows of this system, then the golden records they feed.

        Vendor ids new to the hub are resolved (linked to an existing golden record, queued
        for review, or given a new one); a source row that did not change is skipped; a
        record only this batch supplies is written straight through, the rest go through
        survivorship.
        """
        system, entity = self.spec.system, self.spec.entity
        rows = self._latest_per_key(mapped.vendor_ids)
        outcome = BatchOutcome(unchanged=len(mapped.vendor_ids) - len(rows))
        unmapped = [c for c in self.entity_columns if c not in mapped.columns]
        if self._in_place and rows and conn.dialect.name in in_place.DIALECTS:
            done = self._update_in_place(conn, mapped, rows, all_digests, unmapped, outcome, run_id)
            rows = [i for i in rows if mapped.vendor_ids[i] not in done]
        links = xref.links(conn, system, entity, [mapped.vendor_ids[i] for i in rows])
        # Records erased on a data-subject request are never taken in again.
        outcome.unchanged += sum(1 for i in rows if (link := links.get(mapped.vendor_ids[i])) and link.erased)
        rows = [i for i in rows if not ((link := links.get(mapped.vendor_ids[i])) and link.erased)]
        if self.spec.extends:
            orphans = [i for i in rows if mapped.vendor_ids[i] not in links]
            bad += [bk.Quarantined(positions[i], f"no {entity} from {system} with this key yet "
                                   "(replay the quarantine once it has arrived)", raw(i), mapped.vendor_ids[i])
                    for i in orphans]
            rows = [i for i in rows if mapped.vendor_ids[i] in links]
        incoming = _Records(mapped.vendor_ids, mapped.columns, rows)
        digest_of = dict(zip(mapped.vendor_ids, all_digests))
        # Records this system alone supplies: the golden row is the copy (ADR 0018).
        sole = {v: link for v in incoming if (link := links.get(v)) is not None and link.sole}
        self._update_sole(conn, incoming, sole, digest_of, unmapped, outcome, run_id)
        links = {v: link for v, link in links.items() if not link.sole}
        rows = [i for i in rows if mapped.vendor_ids[i] not in sole]
        incoming = _Records(mapped.vendor_ids, mapped.columns, rows)
        resolution = resolve(conn, self.writer, system, [v for v in incoming if v not in links], incoming, new_ids)
        ids = {**{v: link.canonical_id for v, link in links.items()}, **resolution.ids}
        # A record only this batch's row supplies is stored once, in the sole form; every other
        # record a row feeds gets (or has) a copy per system and a cross-reference.
        fresh = [i for i in rows if ids[mapped.vendor_ids[i]] in resolution.fresh]
        layered = [i for i in rows if ids[mapped.vendor_ids[i]] not in resolution.fresh]
        xref.link(conn, system, entity, [link for link in resolution.links if link[1] not in resolution.fresh])
        xref.layer(conn, entity, list({ids[mapped.vendor_ids[i]] for i in layered}))
        self.writer.append_new(conn, mapped.columns, fresh, [ids[mapped.vendor_ids[i]] for i in fresh],
                               [all_digests[i] for i in fresh], changed_by=self._actor, run_id=run_id,
                               sole=(system, [mapped.vendor_ids[i] for i in fresh],
                                     self._source_times.take(fresh, bk.now())))
        incoming = _Records(mapped.vendor_ids, mapped.columns, layered)
        # Every copy of the records this batch changes, read once: this system's previous copy
        # is the base for change detection, and all of them feed survivorship.
        copies = self._copies(conn, [v for v in incoming if v in links], links)
        previous = {row["vendor_id"]: row for rows in copies.values() for row in rows
                    if row["system"] == system and row["vendor_id"] in incoming}
        # First copy of this system's record (a new vendor id, or a record the hub wrote to this
        # system and now reads back): its source row goes in as Arrow columns straight from the mapping.
        first = [i for i in layered if mapped.vendor_ids[i] not in previous]
        first_ids = [ids[mapped.vendor_ids[i]] for i in first]
        self._append_sources(conn, mapped, first, first_ids, [all_digests[i] for i in first], run_id)
        changed = self._changed_sources(incoming, ids, previous, links, outcome, run_id,
                                        mapped_digests=digest_of, unmapped=unmapped)
        sources.upsert(conn, entity, changed)
        if self.echo:  # what this system now holds, so a publish does not send it straight back
            xref.set_sent_hashes(conn, system, entity, {
                vid: echo_hash(incoming[vid], self.echo)
                for vid in [r["vendor_id"] for r in changed] + [mapped.vendor_ids[i] for i in first]})
            fresh_ids = [mapped.vendor_ids[i] for i in fresh]
            fresh_records = _Records(mapped.vendor_ids, mapped.columns, fresh)
            xref.set_sent_hashes(conn, system, entity,
                                 {vid: echo_hash(fresh_records[vid], self.echo) for vid in fresh_ids})
        others = [r["canonical_id"] for r in changed] + first_ids
        edits = {r["canonical_id"]: (previous[r["vendor_id"]], incoming[r["vendor_id"]]) for r in changed}
        self._note(self.writer.recompute(conn, list(dict.fromkeys(others)), changed_by=self._actor, run_id=run_id,
                                         edits=edits, known=_after(copies, changed)))
        matches.add_reviews(conn, entity, resolution.reviews, run_id)
        outcome.written += len(changed) + len(first) + len(fresh)
        outcome.added += len(first) + len(fresh)
        outcome.linked += resolution.matched
        return outcome

    def _update_sole(self, conn: sa.Connection, incoming: _Records, sole: dict[str, xref.Link],
                     digest_of: dict[str, str], unmapped: list[str], outcome: BatchOutcome, run_id: int | None) -> None:
        """New versions of sole-form records whose values changed; the golden row is their copy.

        A row that brings back what the hub wrote to this system (an echo) keeps the copy's
        change time, as a layered copy does. A record that is not active stays as it is.
        """
        if not sole:
            return
        current = golden.fetch(conn, self.spec.entity, "canonical_id", [link.canonical_id for link in sole.values()])
        moment = bk.now()
        rows = []
        for vid, link in sole.items():
            before = current[link.canonical_id]
            values = incoming[vid]
            if any(before[c] is not None for c in unmapped):
                digest = golden.content_hash({**before, **values}, self.entity_columns)
            else:
                digest = digest_of[vid]
            if before["status"] != "active" or before["content_hash"] == digest:
                outcome.unchanged += 1
                continue
            echo = (link.sent_hash is not None and self.echo and link.sent_hash == echo_hash(values, self.echo))
            rows.append({**before, **values, "content_hash": digest, "lineage": None,
                         "sole_changed_at": before["sole_changed_at"] if echo else self._source_times.get(vid, moment),
                         "changed_by": self._actor, "run_id": run_id})
        self.writer.write(conn, rows, current)
        if self.echo:
            written = {r["canonical_id"] for r in rows}
            xref.set_sent_hashes(conn, self.spec.system, self.spec.entity, {
                vid: echo_hash(incoming[vid], self.echo) for vid, link in sole.items() if link.canonical_id in written})
        outcome.written += len(rows)

    def _update_in_place(self, conn: sa.Connection, mapped: MappedBatch, rows: list[int], digests: list[str],
                         unmapped: list[str], outcome: BatchOutcome, run_id: int | None) -> set[str]:
        """Update the batch's single-source records set-based; returns the vendor ids it dealt with."""
        take = pa.array(rows, pa.int64())
        result = in_place.update_single_sources(
            conn, self.spec.entity, self.spec.system,
            {c: mapped.columns[c].take(take) for c in self.entity_columns if c in mapped.columns},
            [mapped.vendor_ids[i] for i in rows], [digests[i] for i in rows], self._source_times.take(rows, bk.now()),
            unmapped, changed_by=self._actor, run_id=run_id)
        outcome.unchanged += len(result.unchanged)
        outcome.written += len(result.updated)
        if len(result.handled) * 2 < len(rows):
            # Mostly new records (a first load resumed from its checkpoint): staging them
            # buys nothing, so the rest of the run takes the general path.
            self._in_place = False
        return result.handled

    def _copies(self, conn: sa.Connection, vendor_ids: list[str],
                links: dict[str, xref.Link]) -> dict[str, list[dict[str, Any]]]:
        """Every source copy of the records ``vendor_ids`` are linked to, by canonical id."""
        copies = sources.by_canonical_id(conn, self.spec.entity, list({links[v].canonical_id for v in vendor_ids}))
        found = {row["vendor_id"] for rows in copies.values() for row in rows if row["system"] == self.spec.system}
        stray = [v for v in vendor_ids if v not in found]
        if stray:  # a copy filed under another record than its link (never expected): read it by vendor id
            for row in sources.by_vendor_id(conn, self.spec.entity, self.spec.system, stray).values():
                copies.setdefault(row["canonical_id"], []).append(row)
        return copies

    def _digests(self, mapped: MappedBatch) -> list[str]:
        """The content hash of every mapped row (as ``golden.content_hash`` of its values)."""
        return golden.content_hashes(mapped.columns, self.entity_columns, len(mapped.vendor_ids))

    def _append_sources(self, conn: sa.Connection, mapped: MappedBatch, indexes: list[int], canonical_ids: list[str],
                        digests: list[str], run_id: int | None) -> None:
        if not indexes:
            return
        moment = bk.now()
        count = len(indexes)
        take = pa.array(indexes, pa.int64())
        times = self._source_times.take(indexes, moment)
        golden.append(conn, source_table_name(self.spec.entity), {
            **{name: col.take(take) for name, col in mapped.columns.items()},
            "system": pa.array([self.spec.system] * count, pa.string()),
            "vendor_id": pa.array([mapped.vendor_ids[i] for i in indexes], pa.string()),
            "canonical_id": pa.array(canonical_ids, pa.string()), "content_hash": pa.array(digests, pa.string()),
            "changed_at": times,
            "run_id": pa.array([run_id] * count, pa.int64()),
        })

    def _changed_sources(self, incoming: _Records, ids: dict[str, str],
                         previous: dict[str, dict[str, Any]], links: dict[str, xref.Link],
                         outcome: BatchOutcome, run_id: int | None, *, mapped_digests: dict[str, str],
                         unmapped: list[str]) -> list[dict[str, Any]]:
        """Known source rows whose values changed; values the hub itself wrote there keep their old change time.

        A row's new content hash is the one :meth:`prepare` computed (``mapped_digests``, by
        vendor id: the last row of each, as ``incoming`` holds) unless the stored copy has a
        value in a column this mapping does not supply (``unmapped``), which the merge keeps.
        """
        moment = bk.now()
        changed = []
        for vid, before in previous.items():
            values = incoming[vid]
            if any(before[c] is not None for c in unmapped):
                digest = golden.content_hash({**before, **values}, self.entity_columns)
            else:
                digest = mapped_digests[vid]
            if before is not None and before["content_hash"] == digest and before["deleted_at"] is None:
                outcome.unchanged += 1
                continue
            link = links.get(vid)
            echo = (link is not None and link.sent_hash is not None and self.echo
                    and link.sent_hash == echo_hash(values, self.echo))
            changed.append({"system": self.spec.system, "vendor_id": vid, "canonical_id": ids[vid],
                            "content_hash": digest,
                            "changed_at": before["changed_at"] if echo else self._source_times.get(vid, moment),
                            "run_id": run_id, "deleted_at": None, **values})
        return changed

    def _note(self, written: Written) -> None:
        """Conflicts and legal holds met in a batch, for the run log (ids only, never values)."""
        for cid, fields in written.conflicts.items():
            log.info("%s %s: sources disagree on %s; resolved by survivorship", self.spec.entity, cid,
                     ", ".join(fields))
        for cid in written.held:
            log.warning("%s %s: every source deleted it, but a legal hold keeps it", self.spec.entity, cid)
        self._deleted += len(written.deleted)
