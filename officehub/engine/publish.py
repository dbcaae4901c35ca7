"""Publish: golden-record changes since the destination's checkpoint → policy → reverse mapping → destination.

The destination is written first and the checkpoint committed after; a crash in
between re-sends the same batch under the same batch id, which the destination's
upsert (or file name) makes harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.config import PipelineConfig, Project
from officehub.connectors import Connector, RejectedRecords, WriteMode
from officehub.engine import references, tracing
from officehub.engine.context import RunContext
from officehub.engine.echo import echo_columns, echo_hash
from officehub.engine.golden_writer import GONE
from officehub.engine.prefetch import prefetched
from officehub.engine.republish import Republication, change_since, holdings
from officehub.mapping import OutboundMapping
from officehub.policies import CompileContext, Destination, PlanChange, PolicedBatch, compile_plan, decisions_in_force
from officehub.store import audit, audit_anchor, golden, matches, xref
from officehub.store import bookkeeping as bk
from officehub.store.hub import HubStore

log = logging.getLogger(__name__)


def destination_of(project: Project, pipeline: str) -> Destination:
    """The destination a publish pipeline sends to: system, its country, the sharing purpose."""
    config = project.config.pipelines[pipeline]
    system = project.config.mappings[config.mapping].system
    return Destination(system, project.config.systems[system].country, config.purpose)


def policy_context(project: Project) -> CompileContext:
    """The project's policies and keys, as of today, and the classes its mappings declare for derived fields."""
    return CompileContext(project.policies, project.keyring(), derived=project.derived_classes())


Progress = Callable[[bk.RunMetrics], None]


def _rows(table: pa.Table) -> int:
    return int(table.num_rows)


def release_detail(policed: PolicedBatch) -> dict[str, Any]:
    """What an audit entry says about records released under a plan: the policy, plan and agreement they
    left under, and per field the action taken and how many values it touched (never a value)."""
    plan = policed.plan
    agreement = plan.agreement
    return {"policy_version": plan.policy_version, "plan": plan.fingerprint,
            "agreement": agreement.id if agreement else None,
            "purpose": agreement.purpose if agreement else None,
            "legal_basis": agreement.legal_basis if agreement else None,
            "fields": policed.counts_by_action()}


@dataclass(frozen=True)
class _Staged:
    """One batch of changes on its way out: what to send, what to delete, and (once put
    through the policy and the mapping) the destination's rows.

    The page of changes itself is not kept (only its change numbers and size): up to
    three batches are alive at once while reading runs ahead, and each page is the
    largest table of its batch.
    """

    first: int   # change numbers of the batch's first and last change
    last: int
    read: int    # changes in the batch
    live: pa.Table
    gone: pa.Table
    policed: PolicedBatch | None = None
    vendor: pa.RecordBatch | None = None


class Publish:
    """One publish pipeline, compiled once (mapping and policy plan), run batch by batch."""

    kind = "publish"

    def __init__(self, project: Project, store: HubStore, name: str, pipeline: PipelineConfig) -> None:
        self.project, self.store, self.name, self.pipeline = project, store, name, pipeline
        self.spec = project.config.mappings[pipeline.mapping]
        self.mapping = OutboundMapping(self.spec, pipeline.mapping)
        self.plan = compile_plan(self.spec.entity, destination_of(project, name), policy_context(project))
        self.batch_size = pipeline.batch_size or project.config.hub.batch_size
        #: The golden-record columns a batch needs: what the mapping sends plus what the plan reads.
        self.columns = list(dict.fromkeys(self.mapping.canonical_columns + self.plan.needed_columns))
        #: Write-back: the destination keys records by its own ids (the xref), not the hub's.
        self.by_vendor_id = "vendor_id" in self.mapping.canonical_columns
        #: Fields the destination also supplies: what it already holds is not sent again.
        self.echo = echo_columns(project, self.spec.system, self.spec.entity)
        #: Vendor key column → the hub id it is written from, when every key column is one.
        hub_keys = {fspec.sources[0]: path for path, fspec in self.spec.fields.items()
                    if path in ("vendor_id", "canonical_id")}
        self.delete_keys = {k: hub_keys[k] for k in self.spec.key} if set(self.spec.key) <= set(hub_keys) else {}
        self.sends_deletes = pipeline.write_mode is not WriteMode.APPEND and bool(self.delete_keys)
        #: The per-field decisions this run sends under, kept in the checkpoint to compare the next plan with.
        self.decisions = decisions_in_force(self.plan)
        #: The fields the mapping sends (what the destination can hold a value of).
        self.sent_fields = [f.leaf.path for f in self.mapping.fields]
        #: Reference fields sent as another system's ids rather than the hub's (``ids_from``).
        self.references = references.outbound_references_of(self.mapping)
        #: Withheld fields written as explicit nulls (during a re-publication only).
        self.empty: frozenset[str] = frozenset()
        #: Fields the destination also supplies: emptying them would erase its own data (and, read
        #: back, the hub's), so a re-publication leaves them as they are and says so.
        self.supplied = frozenset(f.leaf.path for f in self.mapping.fields if f.leaf.column in self.echo)

    def _after(self) -> int:
        with self.store.begin() as conn:
            return self._after_in(conn)

    def estimate(self) -> int | None:
        """Changes waiting to be published."""
        table = self.store.tables[self.spec.entity]
        with self.store.begin() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)
                                .where(table.c.change_seq > self._after())).scalar_one()

    def run(self, run_id: int, progress: Progress) -> bk.RunMetrics:
        """Send every change after the checkpoint, batch by batch."""
        total = bk.RunMetrics()
        redo, after = self._begin(run_id)
        self.empty = redo.empty - self.supplied if redo else frozenset()
        with self.project.connector(self.spec.system) as destination:
            # The next batch of changes is read (and, where that needs nothing from the hub
            # store, put through the policy) while this one is written to the destination.
            changes_read = tracing.batches("read", self._changes(after), _rows)
            for staged in prefetched(self._staged(changes) for changes in changes_read):
                live, gone, first, last = staged.live, staged.gone, staged.first, staged.last
                batch_id = redo.batch_id(first, last) if redo else f"{first:012d}-{last:012d}"
                known: dict[str, str] = {}
                dangling: list[bk.Quarantined] = []
                if staged.policed is None:
                    with self.store.begin() as conn:
                        # References become the named system's ids before the policy sees them, so
                        # a pseudonym of one is the pseudonym of that id wherever else it is sent.
                        if self.references:
                            live, dangling = references.translate(conn, self.references, live, batch_id)
                        live, known = self._prepare(conn, live, resend=redo is not None)
                    staged = self._policed(staged, live)
                policed, vendor = staged.policed, staged.vendor
                assert policed is not None and vendor is not None  # put through the policy by now
                # The audit entry is committed before anything leaves, so no batch reaches
                # a destination unrecorded, even if the process dies right after sending.
                with self.store.begin() as conn:
                    self._audit(self.context(conn, run_id), first, last, policed, gone.num_rows)
                if redo:
                    redo = self._clear_earlier(destination, redo, live, batch_id).sent(live.num_rows)
                with tracing.stage("write", vendor.num_rows + gone.num_rows) as stage:
                    written, refused = self._write(destination, vendor, batch_id) if vendor.num_rows else (0, [])
                    refused = dangling + refused
                    deleted = self.delete_records(destination, gone, batch_id)
                    stage.rows_out(written + deleted)
                total.add(bk.RunMetrics(records_read=staged.read, records_written=written,
                                        records_unchanged=staged.read - live.num_rows - gone.num_rows,
                                        records_quarantined=len(refused), fields_redacted=policed.values_withheld,
                                        records_deleted=deleted))
                with self.store.begin() as conn:
                    # Refused records wait in the quarantine; the checkpoint moves on, so one bad
                    # record cannot hold back every later change.
                    bk.quarantine(conn, run_id, self.name, self.spec.system, self.spec.stream, refused)
                    xref.set_sent_hashes(conn, self.spec.system, self.spec.entity, known)
                    bk.set_checkpoint(conn, self.name, self._cursor_at(last, redo), run_id)
                    bk.record_progress(conn, run_id, total)
                progress(total)
        if redo:
            self._republished(run_id, redo)
        return total

    def context(self, conn: sa.Connection, run_id: int) -> RunContext:
        """This pipeline acting in run ``run_id`` on ``conn``."""
        return RunContext(conn, f"pipeline:{self.name}", run_id)

    def _cursor_at(self, seq: int, redo: Republication | None) -> dict[str, Any]:
        """The checkpoint after change ``seq``: the decisions it was sent under, and a re-publication under way."""
        cursor: dict[str, Any] = {"seq": seq, "decisions": self.decisions}
        if redo:
            cursor["republish"] = redo.state()
        return cursor

    def _begin(self, run_id: int) -> tuple[Republication | None, int]:
        """The re-publication this run carries out (one under way, or one the plan makes necessary),
        and the change number it starts after."""
        with self.store.begin() as conn:
            cursor = bk.get_checkpoint(conn, self.name) or {}
            previous = audit.last_detail(conn, "publish", self.subject)
            change = change_since(cursor, self.plan, (previous or {}).get("plan"), self.sent_fields)
            self._note_policy_change(self.context(conn, run_id), previous, change)
            pending = Republication.from_state(cursor["republish"]) if "republish" in cursor else None
            if not change.republish:
                if cursor.get("seq") and "decisions" not in cursor:
                    # A checkpoint from before decisions were kept: from now on, compare precisely.
                    bk.set_checkpoint(conn, self.name, self._cursor_at(int(cursor["seq"]), pending), run_id)
                return pending, int(cursor.get("seq", 0))
            redo = pending.merged(change, run_id) if pending else Republication(run_id, change.tightened,
                                                                                change.rekeyed)
            # Kept before anything is sent: a crash from here on resumes the re-publication.
            bk.set_checkpoint(conn, self.name, self._cursor_at(0, redo), run_id)
        log.warning("%s: the plan withholds more or uses another key than the destination's values were sent "
                    "under; every record is sent again (%d field(s) emptied, %d re-keyed)",
                    self.name, len(redo.tightened), len(redo.rekeyed))
        return redo, 0

    def _clear_earlier(self, destination: Connector, redo: Republication, live: pa.Table,
                       batch_id: str) -> Republication:
        """Append-only destinations keep every row they were sent: delete the batch's earlier rows
        where the destination can; where it cannot, note that earlier copies remain."""
        if self.pipeline.write_mode is not WriteMode.APPEND or redo.stale_copies or live.num_rows == 0:
            return redo
        if self.delete_keys:
            try:
                self.delete_records(destination, live, batch_id, strict=True)
                return redo
            except FatalError:
                pass  # a drop folder cannot delete: its files already delivered stay as they are
        return replace(redo, stale_copies=True)

    def _republished(self, run_id: int, redo: Republication) -> None:
        """End the re-publication: audit what the destination holds now, and any key rotation."""
        detail: dict[str, Any] = {"records": redo.records, "tightened": list(redo.tightened),
                        "holds": holdings(self.plan, self.sent_fields, redo.empty & self.supplied)}
        if redo.stale_copies:
            detail["earlier_copies"] = ("the files delivered before this re-publication still hold the old "
                                        "values and must be removed by hand")
            log.warning("%s: %s (%s/%s)", self.name, detail["earlier_copies"], self.spec.system, self.spec.stream)
        with self.store.begin() as conn:
            ctx = self.context(conn, run_id)
            audit.append(conn, actor=ctx.actor, action="publish.republished", subject=self.subject, run_id=run_id,
                         detail=detail)
            for before, now in sorted(set(redo.rekeyed.values()), key=str):
                fields = sorted(p for p, keys in redo.rekeyed.items() if keys == (before, now))
                audit.append(conn, actor=ctx.actor, action="keys.rotated", subject=self.subject, run_id=run_id,
                             detail={"from": before, "to": now, "fields": fields, "records": redo.records})
            bk.set_checkpoint(conn, self.name, self._cursor_at(self._after_in(conn), None), run_id)

    def _after_in(self, conn: sa.Connection) -> int:
        return int((bk.get_checkpoint(conn, self.name) or {}).get("seq", 0))

    def _staged(self, changes: pa.Table) -> _Staged:
        """One batch of changes split into records to send and to delete; put through the
        policy here already when what is sent depends on nothing but the golden rows (no
        destination ids, echo hashes or references to look up in the hub store)."""
        live, gone = self._split(changes)
        seqs = changes.column("change_seq")
        staged = _Staged(seqs[0].as_py(), seqs[-1].as_py(), changes.num_rows, live, gone)
        return staged if self.by_vendor_id or self.echo or self.references else self._policed(staged, live)

    def _policed(self, staged: _Staged, live: pa.Table) -> _Staged:
        """``staged`` with ``live`` put through the plan (only what the mapping asks for) and the mapping."""
        with tracing.stage("policy", live.num_rows) as stage:
            policed = self.plan.apply(live.select(self.columns))
            stage.rows_out(policed.num_rows)
        with tracing.stage("map", policed.num_rows) as stage:
            vendor = self.mapping.apply(policed, self.empty)
            stage.rows_out(vendor.num_rows)
        return replace(staged, live=live, policed=policed, vendor=vendor)

    def _changes(self, after: int) -> Iterator[pa.Table]:
        """Golden-record changes after change number ``after``, a batch at a time, oldest first.

        Read through the hub store's Arrow-native reader where it has one, once a full page
        has shown that more than a page may be waiting: that reader opens a connection of
        its own (60-100 ms for ADBC, against a page of 2,000 changes read in about 10 ms
        either way), which most incremental publishes would open for one short page. Until
        then pages come through SQLAlchemy on a pooled connection (the same rows and schema).
        """
        reader = self.store.arrow_reader()
        with ExitStack() as stack:
            fetch = None
            while True:
                if fetch is not None:
                    changes = golden.changes_since_arrow(fetch, self.spec.entity, after, self.batch_size)
                else:
                    with self.store.begin() as conn:
                        changes = golden.changes_since(conn, self.spec.entity, after, self.batch_size)
                if changes.num_rows == 0:
                    return
                yield changes
                after = changes.column("change_seq")[-1].as_py()
                if fetch is None and reader is not None and changes.num_rows >= self.batch_size:
                    fetch = stack.enter_context(reader.pages())  # while the page just read is written

    def _split(self, changes: pa.Table) -> tuple[pa.Table, pa.Table]:
        """Records to send, and records gone from the hub (purged, erased, merged) to delete.

        Records soft-deleted but still in their grace period are neither.
        """
        status = changes.column("status")
        live = changes.filter(pc.equal(status, "active"))
        gone = changes.filter(pc.is_in(status, pa.array(sorted(GONE)))) if self.sends_deletes else changes.slice(0, 0)
        return live, gone

    def _prepare(self, conn: sa.Connection, live: pa.Table, resend: bool = False) -> tuple[pa.Table, dict[str, str]]:
        """Add the destination's vendor ids (creating links for records new to it) and leave out
        records it already holds as they are (none with ``resend``: a re-publication replaces values
        the hub's hashes cannot see, such as a field now withheld); returns the rows and, by vendor
        id, what it will hold."""
        if not (self.by_vendor_id or self.echo):
            return live, {}
        if live.num_rows == 0:
            return (live.append_column("vendor_id", pa.array([], pa.string())) if self.by_vendor_id else live), {}
        ids = live.column("canonical_id").to_pylist()
        known = xref.vendor_ids_of(conn, self.spec.system, self.spec.entity, ids)
        if self.by_vendor_id:
            # A record new to the destination is created there under its canonical id, unless it
            # waits in the review queue: a likely duplicate is not copied into other systems
            # before a steward has decided.
            new = [cid for cid in ids if cid not in known]
            held = matches.pending_ids(conn, new) if new else set()
            if self.pipeline.create_missing:
                xref.link(conn, self.spec.system, self.spec.entity,
                          [(cid, cid, "publish", None) for cid in new if cid not in held])
                known.update({cid: cid for cid in new if cid not in held})
            live = live.filter(pa.array([cid in known for cid in ids]))
            ids = live.column("canonical_id").to_pylist()
            live = live.append_column("vendor_id", pa.array([known[cid] for cid in ids], pa.string()))
        if not self.echo:
            return live, {}
        sent = xref.sent_hashes(conn, self.spec.system, self.spec.entity, ids)
        policed = self.plan.apply(live.select([c for c in self.columns if c in live.column_names]))
        echo = {c: policed.columns[c].to_pylist() for c in self.echo if c in policed.columns}
        keep, sending = [], {}
        for row, cid in enumerate(ids):
            digest = echo_hash({c: values[row] for c, values in echo.items()}, self.echo)
            if sent.get(cid) == digest and not resend:
                continue  # the destination holds these values already (it supplied them, or we sent them)
            keep.append(row)
            if cid in known:
                sending[known[cid]] = digest
        return live.take(pa.array(keep, pa.int64())), sending

    def delete_records(self, destination: Connector, gone: pa.Table, batch_id: str, strict: bool = False) -> int:
        """Delete records in the destination, under its own ids; returns how many were sent.

        The destination's key must come from the hub's ids (``vendor_id`` or ``canonical_id``):
        a record gone from the hub has no values left to key it by. A destination that cannot
        delete (a file drop) is logged and skipped, or, with ``strict``, raises its error.
        """
        if gone.num_rows == 0 or not self.delete_keys:
            return 0
        ids = gone.column("canonical_id").to_pylist()
        vendor_ids: dict[str, str] = {}
        if "vendor_id" in self.delete_keys.values():
            with self.store.begin() as conn:
                vendor_ids = xref.vendor_ids_of(conn, self.spec.system, self.spec.entity, ids, include_erased=True)
            ids = [cid for cid in ids if cid in vendor_ids]
        if not ids:
            return 0
        keys = pa.RecordBatch.from_pydict({
            column: pa.array([vendor_ids[cid] if hub == "vendor_id" else cid for cid in ids], pa.string())
            for column, hub in self.delete_keys.items()})
        try:
            destination.write(self.spec.stream, keys, WriteMode.DELETE, key=tuple(self.spec.key),
                              batch_id=f"{batch_id}-delete")
        except FatalError as exc:
            if strict:
                raise
            log.warning("%s: %d deletion(s) not sent: %s", self.name, keys.num_rows, exc.describe())
            return 0
        return int(keys.num_rows)

    def _write(self, destination: Connector, vendor: pa.RecordBatch, batch_id: str) -> tuple[int, list[bk.Quarantined]]:
        """Write one batch; records the destination refuses come back for the quarantine."""
        try:
            return int(destination.write(self.spec.stream, vendor, self.pipeline.write_mode,
                                         key=tuple(self.spec.key), batch_id=batch_id)), []
        except RejectedRecords as exc:
            return exc.written, [bk.Quarantined(r.position, r.reason, r.raw) for r in exc.rejects]

    def _audit(self, ctx: RunContext, first: int, last: int, policed: PolicedBatch, deletes: int) -> None:
        """The batch's audit entry: what leaves, under which policy and agreement (counts, never values)."""
        audit.append(ctx.conn, actor=ctx.actor, action="publish", subject=self.subject, run_id=ctx.run_id,
                     detail={"records": policed.num_rows, "deletes": deletes, "changes": [first, last],
                             **release_detail(policed)})
        # Signed in the same transaction: no batch leaves with its entry outside a checkpoint.
        audit_anchor.checkpoint(ctx.conn, self.project.audit_keys)

    @property
    def subject(self) -> str:
        """What the audit entries of this pipeline are about."""
        return f"{self.spec.entity} → {self.spec.system}/{self.spec.stream}"

    def _note_policy_change(self, ctx: RunContext, previous: dict[str, Any] | None, change: PlanChange) -> None:
        """Audit a change of the policies or keys in force since this destination's previous batch."""
        if not previous or (previous.get("policy_version") == self.plan.policy_version
                            and previous.get("plan") == self.plan.fingerprint):
            return
        noted = audit.last_detail(ctx.conn, "policy.changed", self.subject) or {}
        if (noted.get("plan_from"), noted.get("plan")) == (previous.get("plan"), self.plan.fingerprint):
            return  # noted by an earlier run that sent nothing since
        audit.append(ctx.conn, actor=ctx.actor, action="policy.changed", subject=self.subject,
                     run_id=ctx.run_id, detail={"from": previous.get("policy_version"), "to": self.plan.policy_version,
                                            "plan_from": previous.get("plan"), "plan": self.plan.fingerprint,
                                            "tightened": list(change.tightened),
                                            "rekeyed": {p: list(k) for p, k in change.rekeyed.items()},
                                            "republish": change.republish})
