"""Columns a publish brings that the destination table lacks: added where allowed, refused by name otherwise.

As dlt does, a table may grow new nullable columns typed from the published field; as
Airbyte's schema-change policy does, the system (or one stream) says whether that is
allowed. Tables the hub created carry a comment saying so and evolve unless frozen;
a table someone else owns changes only with ``schema_changes: evolve``. Columns are
never dropped or retyped.
"""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.types import sql_type
from officehub.canonical_model.errors import FatalError
from officehub.connectors.sql.config import SchemaChanges

#: The comment on tables the hub created (where the database keeps table comments).
HUB_CREATED = "created by officehub; new published fields are added as columns"


def missing_fields(table: sa.Table, schema: pa.Schema) -> list[pa.Field]:
    """The batch's fields ``table`` has no column for."""
    return [field for field in schema if field.name not in table.c]


def may_evolve(table: sa.Table, policy: SchemaChanges | None) -> bool:
    """Whether ``policy`` lets the hub add columns to ``table``."""
    if policy is not None:
        return policy == "evolve"
    return table.comment == HUB_CREATED


def refusal(table: sa.Table, fields: list[pa.Field], policy: SchemaChanges | None, system: str,
            stream: str) -> FatalError:
    """The one-line error for columns the table lacks and may not gain."""
    names = ", ".join(field.name for field in fields)
    why = "schema_changes is freeze" if policy == "freeze" else "the hub did not create it"
    return FatalError(f"table {_name(table)} has no column {names} that the mapping publishes, and {why}; "
                      f"set schema_changes: evolve on the system (or under streams: {stream}:) to add it, "
                      "or add the column to the table", system=system, stream=stream)


def add_columns(engine: sa.Engine, table: sa.Table, fields: list[pa.Field]) -> None:
    """``ALTER TABLE … ADD COLUMN`` for each field, nullable, typed from its Arrow type."""
    with engine.begin() as conn:
        # Alembic loads every dialect it knows; imported only when a column is really added.
        from alembic.migration import MigrationContext
        from alembic.operations import Operations

        operations = Operations(MigrationContext.configure(conn))
        for field in fields:
            operations.add_column(table.name, sa.Column(field.name, sql_type(field.type), nullable=True),
                                  schema=table.schema)


def _name(table: sa.Table) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name
