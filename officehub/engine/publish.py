"""Publish: golden-record changes since the destination's checkpoint → policy → reverse mapping → destination.

The destination is written first and the checkpoint committed after; a crash in
between re-sends the same batch under the same batch id, which the destination's
upsert (or file name) makes harmless.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import sqlalchemy as sa

from connectors import Connector, RejectedRecords
from officehub.config import PipelineConfig, Project
from officehub.mapping import OutboundMapping
from officehub.store import audit
from officehub.store import bookkeeping as bk
from officehub.store import golden
from officehub.store.hub import HubStore
from policies import CompileContext, Destination, PolicedBatch, compile_plan


def destination_of(project: Project, pipeline: str) -> Destination:
    """The destination a publish pipeline sends to: system, its country, the sharing purpose."""
    config = project.config.pipelines[pipeline]
    system = project.config.mappings[config.mapping].system
    return Destination(system, project.config.systems[system].country, config.purpose)


def policy_context(project: Project) -> CompileContext:
    """The project's policies and keys, as of today."""
    return CompileContext(project.policies, project.keyring())


Progress = Callable[[bk.RunMetrics], None]


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

    def _after(self) -> int:
        with self.store.begin() as conn:
            return int((bk.get_checkpoint(conn, self.name) or {}).get("seq", 0))

    def estimate(self) -> int | None:
        """Changes waiting to be published."""
        table = self.store.tables[self.spec.entity]
        with self.store.begin() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)
                                .where(table.c.change_seq > self._after())).scalar_one()

    def run(self, run_id: int, progress: Progress) -> bk.RunMetrics:
        """Send every change after the checkpoint, batch by batch."""
        total = bk.RunMetrics()
        after = self._after()
        self._note_policy_change(run_id)
        with self.project.connector(self.spec.system) as destination:
            while True:
                with self.store.begin() as conn:
                    changes = golden.changes_since(conn, self.spec.entity, after, self.batch_size)
                if changes.num_rows == 0:
                    return total
                seqs = changes.column("change_seq")
                first, last = seqs[0].as_py(), seqs[-1].as_py()
                # Only what the destination's mapping asks for goes through the plan.
                policed = self.plan.apply(changes.select(self.columns))
                vendor = self.mapping.apply(policed)
                # The audit entry is committed before anything leaves, so no batch reaches
                # a destination unrecorded, even if the process dies right after sending.
                self._audit(run_id, first, last, policed)
                written, refused = self._write(destination, vendor, f"{first:012d}-{last:012d}")
                total.add(bk.RunMetrics(records_read=changes.num_rows, records_written=written,
                                        records_quarantined=len(refused), fields_redacted=policed.values_withheld))
                with self.store.begin() as conn:
                    # Refused records wait in the quarantine; the checkpoint moves on, so one bad
                    # record cannot hold back every later change.
                    bk.quarantine(conn, run_id, self.name, self.spec.system, self.spec.stream, refused)
                    bk.set_checkpoint(conn, self.name, {"seq": last}, run_id)
                    bk.record_progress(conn, run_id, total)
                after = last
                progress(total)

    def _write(self, destination: Connector, vendor: pa.RecordBatch, batch_id: str) -> tuple[int, list[bk.Quarantined]]:
        """Write one batch; records the destination refuses come back for the quarantine."""
        try:
            return destination.write(self.spec.stream, vendor, self.pipeline.write_mode,
                                     key=tuple(self.spec.key), batch_id=batch_id), []
        except RejectedRecords as exc:
            return exc.written, [bk.Quarantined(r.position, r.reason, r.raw) for r in exc.rejects]

    def _audit(self, run_id: int, first: int, last: int, policed: PolicedBatch) -> None:
        plan = self.plan
        agreement = plan.agreement
        with self.store.begin() as conn:
            audit.append(conn, actor=f"pipeline:{self.name}", action="publish", subject=self.subject, run_id=run_id,
                            detail={"records": policed.num_rows, "changes": [first, last],
                                    "policy_version": plan.policy_version, "plan": plan.fingerprint,
                                    "agreement": agreement.id if agreement else None,
                                    "purpose": agreement.purpose if agreement else None,
                                    "legal_basis": agreement.legal_basis if agreement else None,
                                    "fields": policed.counts_by_action()})

    @property
    def subject(self) -> str:
        """What the audit entries of this pipeline are about."""
        return f"{self.spec.entity} → {self.spec.system}/{self.spec.stream}"

    def _note_policy_change(self, run_id: int) -> None:
        """Audit a change of the policies in force since this destination's previous batch."""
        with self.store.begin() as conn:
            previous = audit.last_detail(conn, "publish", self.subject)
            if previous and previous.get("policy_version") != self.plan.policy_version:
                audit.append(conn, actor=f"pipeline:{self.name}", action="policy.changed", subject=self.subject,
                                run_id=run_id, detail={"from": previous.get("policy_version"),
                                                       "to": self.plan.policy_version, "plan": self.plan.fingerprint})
