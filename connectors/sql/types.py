"""Arrow ↔ SQL type translation for tables the connector creates or reads."""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa


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
