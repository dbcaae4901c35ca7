"""The pipeline's ``schema_changes`` handling, applied to one ingest run's batches.

Before the first batch is handed on, the columns the source offers now (its connector's
``discover``, with a sample of the first batch's values, looked at in memory) are compared
with those recorded last time; so is every batch whose columns differ (a file drop whose
header changed). Changes are recorded in ``schema_change``; a new column that looks like
special-category data is reported to compliance in the audit trail (its class, never a
value). Then: ``evolve`` records the new schema and carries on, ``freeze`` fails the run
before anything is stored, ``quarantine`` sends the rows of the new shape to the quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError, OfficehubError
from officehub.connectors import Connector, ReadBatch, ReadOptions, RejectedRow, StreamInfo, WriteMode
from officehub.connectors.base import Cursor
from officehub.connectors.jsonable import jsonable
from officehub.engine.drift import special
from officehub.engine.drift.compare import ADDED, RENAMED, Change, Column, compare, fingerprint_text, profile
from officehub.store import audit, stream_schemas
from officehub.store.hub import HubStore

log = logging.getLogger(__name__)

EVOLVE, FREEZE, QUARANTINE = "evolve", "freeze", "quarantine"
#: Values of a column looked at (in memory) to profile and classify it.
SAMPLE_ROWS = special.SAMPLE_SIZE


class SchemaFrozen(FatalError):
    """A frozen stream's columns changed: the run fails, nothing of it is stored (the exit code of a failed run)."""

    exit_code = OfficehubError.exit_code


class _Spec(Protocol):
    @property
    def system(self) -> str: ...
    @property
    def stream(self) -> str: ...


class _Pipeline(Protocol):
    @property
    def schema_changes(self) -> str: ...


class IngestStep(Protocol):
    """What the guard needs of an ingest step."""

    @property
    def store(self) -> HubStore: ...
    @property
    def name(self) -> str: ...
    @property
    def spec(self) -> _Spec: ...
    @property
    def pipeline(self) -> _Pipeline: ...


@dataclass(frozen=True)
class Scope:
    """One run of one pipeline over one stream, and how it handles schema changes."""

    store: HubStore
    system: str
    stream: str
    pipeline: str
    handling: str
    run_id: int

    @property
    def actor(self) -> str:
        """Who the audit trail says acted: the source, through the pipeline."""
        return f"{self.system} (pipeline {self.pipeline})"


def _arrow_type_name(arrow_type: pa.DataType) -> str:
    """A short type name, in the words connectors' ``discover`` uses, for a column only a batch shows."""
    for test, name in ((pa.types.is_boolean, "bool"), (pa.types.is_integer, "int64"),
                       (pa.types.is_floating, "float64"), (pa.types.is_timestamp, "datetime"),
                       (pa.types.is_date, "date"), (pa.types.is_decimal, "Decimal"), (pa.types.is_binary, "binary")):
        if test(arrow_type):
            return name
    return "string"


def _sample(batch: pa.RecordBatch | None, name: str) -> list[object]:
    if batch is None or name not in batch.schema.names:
        return []
    return list(batch.column(name).slice(0, SAMPLE_ROWS).to_pylist())


class DriftGuard:
    """Judges the shapes a run's batches come in, once each, and hands the batches on as handled."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._types: dict[str, str] = {}
        #: Per set of column names judged: the quarantine reason for its rows, or None to pass them.
        self._verdicts: dict[frozenset[str], str | None] = {}

    def watch(self, source: Connector, batches: Iterator[ReadBatch]) -> Iterator[ReadBatch]:
        """``batches`` as the handling wants them; the stream's offered columns are judged first."""
        offered = source.discover_stream(self.scope.stream)
        first = next(batches, None)
        if offered is not None and offered.fields:
            self._types = {f.name: f.type for f in offered.fields}
            self._judge(self._offered(offered, first), first.batch if first else None)
        if first is not None:
            yield self._handled(first)
        for rb in batches:
            yield self._handled(rb)

    def _offered(self, offered: StreamInfo, first: ReadBatch | None) -> list[Column]:
        sample = first.batch if first is not None else None
        return [Column(f.name, f.type, profile(_sample(sample, f.name))) for f in offered.fields]

    def _handled(self, rb: ReadBatch) -> ReadBatch:
        names = frozenset(rb.batch.schema.names)
        if not names:
            return rb
        if names not in self._verdicts:
            shape = [Column(f.name, self._types.get(f.name) or _arrow_type_name(f.type),
                            profile(_sample(rb.batch, f.name))) for f in rb.batch.schema]
            self._judge(shape, rb.batch)
        reason = self._verdicts[names]
        return rb if reason is None else _quarantined(rb, reason)

    def _judge(self, shape: list[Column], sample: pa.RecordBatch | None) -> None:
        """Compare ``shape`` with the recorded schema; record, report and handle what changed."""
        scope, names = self.scope, frozenset(c.name for c in shape)
        with scope.store.begin() as conn:
            stored = stream_schemas.load(conn, scope.system, scope.stream)
            before = [Column.from_dict(c) for c in stored or []]
            changes = compare(before, shape) if stored is not None else []
            if stored is None or (changes and scope.handling == EVOLVE) or _profiles_new(before, shape):
                _save(conn, scope, _kept_profiles(before, shape))
            if changes:
                rows = [stream_schemas.ChangeRow(c.kind, c.column, c.detail, _special(c, sample)) for c in changes]
                stream_schemas.record_changes(conn, system=scope.system, stream=scope.stream, pipeline=scope.pipeline,
                                              run_id=scope.run_id, handling=scope.handling, changes=rows)
                audit.append_many(conn, _compliance_entries(scope, rows))
        self._verdicts[names] = None
        if not changes:
            return
        listed = "; ".join(c.describe() for c in changes)
        log.warning("%s/%s: the source's columns changed (%s); schema_changes: %s", scope.system, scope.stream,
                    listed, scope.handling)
        if scope.handling == FREEZE:
            raise SchemaFrozen(f"the stream's columns changed ({listed}) and the pipeline's schema_changes is freeze: "
                             "nothing was stored; adapt the mapping, then run once with schema_changes: evolve to "
                             "accept the new columns", system=scope.system, stream=scope.stream)
        if scope.handling == QUARANTINE:
            self._verdicts[names] = f"schema drift: {listed} (schema_changes: quarantine)"


def _profiles_new(before: Sequence[Column], shape: Sequence[Column]) -> bool:
    """Whether ``shape`` profiles a column the record has no profile of yet (a first run that read nothing)."""
    known = {c.name: c.profile for c in before}
    return any(c.profile and c.name in known and not known[c.name] for c in shape)


def _kept_profiles(before: Sequence[Column], shape: Sequence[Column]) -> list[Column]:
    """``shape``, keeping the recorded profile of a column this run read no value of."""
    known = {c.name: c.profile for c in before}
    return [c if c.profile else Column(c.name, c.type, known.get(c.name)) for c in shape]


def _save(conn: sa.Connection, scope: Scope, shape: Sequence[Column]) -> None:
    stream_schemas.save(conn, scope.system, scope.stream, [c.as_dict() for c in shape],
                        stream_schemas.fingerprint(fingerprint_text(shape)), scope.run_id)


def _special(change: Change, sample: pa.RecordBatch | None) -> str | None:
    """The special category a new (or newly named) column looks like; its values stay in memory."""
    if change.kind not in (ADDED, RENAMED):
        return None
    found = special.classify(change.column, _sample(sample, change.column))
    return found[0] if found else None


def _compliance_entries(scope: Scope, rows: Sequence[stream_schemas.ChangeRow]) -> list[audit.Entry]:
    """One audit entry per new column that looks like special-category data: ids, names and the class."""
    return [audit.Entry(scope.actor, "schema.special_category", f"{scope.system}/{scope.stream}",
                        {"system": scope.system, "stream": scope.stream, "pipeline": scope.pipeline,
                         "column": row.column, "class": row.special_category, "change": row.kind,
                         "handling": scope.handling}, scope.run_id)
            for row in rows if row.special_category is not None]


def _quarantined(rb: ReadBatch, reason: str) -> ReadBatch:
    """``rb`` with every row turned into a quarantine entry at its position; nothing of it is stored."""
    rows = [{k: jsonable(v) for k, v in row.items()} for row in rb.batch.to_pylist()]
    rejects = [RejectedRow(position, reason, raw) for position, raw in zip(rb.positions, rows)]
    return ReadBatch(pa.RecordBatch.from_pylist([]), [], rb.cursor, [*rb.rejects, *rejects])


class _Guarded(Connector):
    """A connector whose reads pass through a :class:`DriftGuard`; everything else is the connector's own."""

    def __init__(self, inner: Connector, guard: DriftGuard) -> None:
        super().__init__(inner.name, inner.config, inner.base_dir)
        self._inner, self._guard = inner, guard

    def check(self) -> None:
        self._inner.check()

    def discover(self) -> list[StreamInfo]:
        return self._inner.discover()

    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        return self._guard.watch(self._inner, self._inner.read(stream, cursor, options))

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        return self._inner.write(stream, batch, mode, key=key, batch_id=batch_id)

    def estimate_rows(self, stream: str) -> int | None:
        return self._inner.estimate_rows(stream)


class _GuardedInOrder(_Guarded):
    """A guarded connector whose batches must not be asked for ahead (see ``Connector.read_ahead``)."""

    read_ahead = False


def guarded(source: Connector, step: IngestStep, run_id: int) -> Connector:
    """``source`` with its reads judged for schema drift in run ``run_id`` of ``step``."""
    scope = Scope(step.store, step.spec.system, step.spec.stream, step.name, step.pipeline.schema_changes, run_id)
    kind = _Guarded if getattr(source, "read_ahead", True) else _GuardedInOrder
    return kind(source, DriftGuard(scope))
