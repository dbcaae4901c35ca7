"""One batch into one table, with the records the destination refuses set apart from the rest.

Records the database cannot hold at all (U+0000 in PostgreSQL text) are taken out
before anything is sent. The rest goes in one bulk statement inside a savepoint; if a
unique index other than the key refuses it, the savepoint is rolled back and the batch
is halved until the colliding records stand alone, so the others are written all the
same and a clean batch still costs one statement. Every other error fails the write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from officehub.arrowsql.driver_errors import DriverError
from officehub.arrowsql.modes import WriteMode
from officehub.arrowsql.refusals import Collision, Refusal, collision_index, collision_reason, nul_refusals

Writer = Callable[[sa.Connection, sa.Table, pa.RecordBatch, WriteMode, Sequence[str]], None]
_COLLISION_ERRORS = (DBAPIError, DriverError, Collision)
_ROW = "__officehub_row"


@dataclass
class Outcome:
    """Rows written, and the refused records by their row in the batch as given."""

    written: int = 0
    refused: list[Refusal] = field(default_factory=list)


def write_guarded(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, mode: WriteMode,
                  key: Sequence[str], write: Writer, *, refuses_nul: bool) -> Outcome:
    """Write ``batch`` with ``write``; records refused one by one come back in the outcome."""
    rows = pa.array(range(batch.num_rows), pa.int64())
    outcome = Outcome()
    if mode is WriteMode.UPSERT and key:
        rows = last_per_key(batch, key)  # ON CONFLICT may not touch one row twice: the last one wins
    if refuses_nul:
        outcome.refused = [Refusal(rows[r.row].as_py(), r.reason) for r in nul_refusals(batch.take(rows))]
        held = {r.row for r in outcome.refused}
        rows = pa.array([r for r in rows.to_pylist() if r not in held], pa.int64())
    if len(rows):
        _bisect(conn, table, batch, rows, mode, tuple(key), write, outcome)
    outcome.refused.sort(key=lambda refusal: refusal.row)
    return outcome


def _bisect(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, rows: pa.Array, mode: WriteMode,
            key: tuple[str, ...], write: Writer, outcome: Outcome) -> None:
    try:
        with conn.begin_nested():
            write(conn, table, batch.take(rows), mode, key)
    except _COLLISION_ERRORS as exc:
        index = collision_index(exc)
        if index is None:
            raise
        if len(rows) == 1:
            outcome.refused.append(Refusal(rows[0].as_py(), collision_reason(index, key)))
            return
        half = len(rows) // 2
        _bisect(conn, table, batch, rows.slice(0, half), mode, key, write, outcome)
        _bisect(conn, table, batch, rows.slice(half), mode, key, write, outcome)
        return
    outcome.written += len(rows)


def last_per_key(batch: pa.RecordBatch, key: Sequence[str]) -> pa.Array:
    """The rows to write, one per key (the last), in batch order."""
    table = pa.Table.from_batches([batch]).append_column(_ROW, pa.array(range(batch.num_rows), pa.int64()))
    last = table.group_by(list(key), use_threads=False).aggregate([(_ROW, "max")])
    return last.column(f"{_ROW}_max").combine_chunks().sort()
