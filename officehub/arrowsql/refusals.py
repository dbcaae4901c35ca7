"""What a destination database refuses for one record, told apart from what fails a whole write.

Two refusals belong to single records: a text value PostgreSQL cannot store (U+0000),
found before anything is sent, and a row that collides with another row on a unique
index other than the one the write matches on, reported by the server. Reasons name
the field or the index, never a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.exc import DBAPIError

#: SQLSTATE unique_violation (PostgreSQL), MySQL/MariaDB ER_DUP_ENTRY, SQLite's UNIQUE and PRIMARY KEY codes.
_UNIQUE_SQLSTATE = "23505"
_MYSQL_DUP_ENTRY = 1062
_SQLITE_UNIQUE = frozenset({1555, 2067})
#: MariaDB's text quotes the value first; the index name is what follows the last "for key".
_MYSQL_KEY_NAME = re.compile(r"for key '([^']*)'\s*$")
_SQLITE_COLUMNS = re.compile(r"constraint failed: (.+)$")


@dataclass(frozen=True)
class Refusal:
    """One record of a batch the destination refused, and why (no values)."""

    row: int
    reason: str


class RowCountMismatch(Exception):
    """A statement touched another number of rows than the write meant to; the transaction is rolled back."""

    def __init__(self, statement: str, expected: int, actual: int) -> None:
        self.statement, self.expected, self.actual = statement, expected, actual
        super().__init__(f"{statement} touched {actual} row(s) where {expected} were meant")


def expect_rows(statement: str, expected: int, actual: int) -> None:
    """Raise :class:`RowCountMismatch` unless ``actual`` is ``expected``; -1 means the driver cannot tell."""
    if actual >= 0 and actual != expected:
        raise RowCountMismatch(statement, expected, actual)


class Collision(Exception):
    """A write hit a unique index: raised by writers that talk to the driver outside SQLAlchemy."""

    def __init__(self, index: str) -> None:
        self.index = index
        super().__init__(f"unique index {index}")


def collision_index(exc: BaseException) -> str | None:
    """The unique index a driver error says was violated, or None if the error is something else."""
    if isinstance(exc, Collision):
        return exc.index
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(orig, "sqlstate", None) == _UNIQUE_SQLSTATE:
        return getattr(getattr(orig, "diag", None), "constraint_name", None) or "(unnamed)"
    args = getattr(orig, "args", ())
    if type(orig).__module__.startswith("pymysql") and args and args[0] == _MYSQL_DUP_ENTRY:
        found = _MYSQL_KEY_NAME.search(str(args[1]) if len(args) > 1 else "")
        return found.group(1) if found else "(unnamed)"
    if getattr(orig, "sqlite_errorcode", None) in _SQLITE_UNIQUE:
        found = _SQLITE_COLUMNS.search(str(orig))
        return f"on {found.group(1)}" if found else "(unnamed)"
    return None


def collision_reason(index: str, key: tuple[str, ...]) -> str:
    """Why a colliding record was refused: the index, and the key writes match on."""
    on = f" (records are matched on {', '.join(key)} only)" if key else ""
    return f"the record collides with another row on unique index {index}{on}"


def nul_refusals(batch: pa.RecordBatch) -> list[Refusal]:
    """Rows holding U+0000 in a text field, each naming the fields; PostgreSQL text cannot store it."""
    fields: dict[int, list[str]] = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        hits = pc.fill_null(pc.match_substring(column, "\x00"), False)
        if pc.any(hits).as_py():
            for row in pc.indices_nonzero(hits).to_pylist():
                fields.setdefault(row, []).append(name)
    return [Refusal(row, f"{_fields(names)} a NUL character (U+0000), which PostgreSQL text cannot store")
            for row, names in sorted(fields.items())]


def _fields(names: list[str]) -> str:
    return f"field {names[0]} holds" if len(names) == 1 else f"fields {', '.join(names)} hold"
