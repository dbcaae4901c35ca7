"""Arrow ↔ SQL type translation for tables the connector creates or reads."""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

#: Arrow's widest decimals; NUMERIC columns beyond them keep the inferred type.
_DECIMAL128_DIGITS = 38
_DECIMAL256_DIGITS = 76


def sql_type(arrow_type: pa.DataType, *, key: bool = False) -> sa.types.TypeEngine:
    """The SQLAlchemy type to create a column that holds ``arrow_type`` values.

    Key columns get a bounded string type: MySQL/MariaDB cannot index unbounded text.
    """
    if pa.types.is_boolean(arrow_type):
        return sa.Boolean()
    if pa.types.is_integer(arrow_type):
        return sa.BigInteger()
    if pa.types.is_floating(arrow_type):
        return sa.Float()
    if pa.types.is_decimal(arrow_type):
        return sa.Numeric(arrow_type.precision, arrow_type.scale)
    if pa.types.is_date(arrow_type):
        return sa.Date()
    if pa.types.is_timestamp(arrow_type):
        return sa.DateTime(timezone=arrow_type.tz is not None)
    return sa.String(255) if key else sa.Text()


def arrow_type_name(column_type: sa.types.TypeEngine) -> str:
    """A short, portable name of a reflected column's type, for ``discover``."""
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return "string"
    return {
        bool: "bool", int: "int64", float: "float64", str: "string", bytes: "binary",
    }.get(python_type, python_type.__name__)


def arrow_types(table: sa.Table, dialect: str) -> dict[str, pa.DataType | None]:
    """The Arrow type every reader gives each column of ``table``; None where it is left to inference."""
    return {column.name: arrow_type(column.type, dialect) for column in table.columns}


def arrow_type(column_type: sa.types.TypeEngine, dialect: str) -> pa.DataType | None:
    """The Arrow type of a reflected column, taken from its declaration rather than its values.

    Declared types keep a stream's schema the same from batch to batch and from one
    reader to another (a NUMERIC(12,2) is decimal128(12, 2) whatever the values).
    None for types with no faithful Arrow twin (JSON, UUID, arrays, intervals, SET, BIT, …).
    """
    if isinstance(column_type, sa.Boolean):
        return pa.bool_()
    if isinstance(column_type, sa.Integer):
        # MySQL's BIGINT UNSIGNED goes past int64.
        return pa.uint64() if isinstance(column_type, mysql.BIGINT) and column_type.unsigned else pa.int64()
    if isinstance(column_type, sa.Float):
        return pa.float32() if _single_precision(column_type, dialect) else pa.float64()
    if isinstance(column_type, sa.Numeric):
        return _decimal(column_type)
    if isinstance(column_type, sa.DateTime):
        return pa.timestamp("us", tz="UTC" if column_type.timezone else None)
    if isinstance(column_type, sa.Date):
        return pa.date32()
    if isinstance(column_type, sa.Time):
        return None if column_type.timezone else pa.time64("us")
    if isinstance(column_type, sa.String) and not isinstance(column_type, mysql.SET):
        return pa.string()
    if isinstance(column_type, (sa.LargeBinary, sa.BINARY, sa.VARBINARY)):
        return pa.binary()
    return None


def _single_precision(column_type: sa.Float, dialect: str) -> bool:
    # PostgreSQL's REAL and MySQL's FLOAT hold 4-byte floats; SQLite's REAL holds 8 bytes.
    if isinstance(column_type, mysql.FLOAT):
        return True
    return isinstance(column_type, sa.REAL) and dialect == "postgresql"


def _decimal(column_type: sa.Numeric) -> pa.DataType | None:
    precision, scale = column_type.precision, column_type.scale
    if precision is None or scale is None:
        return None  # unconstrained NUMERIC: any scale may come, so no one decimal type fits
    if precision <= _DECIMAL128_DIGITS:
        return pa.decimal128(precision, scale)
    return pa.decimal256(precision, scale) if precision <= _DECIMAL256_DIGITS else None
