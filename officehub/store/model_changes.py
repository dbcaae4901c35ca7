"""What a change of the canonical model does to the hub store, and applying it.

The hub's own bookkeeping tables change only with a released schema revision (Alembic,
:mod:`officehub.store.migrate`). The entity tables — golden, source copy, history and
one child table per repeating group — follow the model in force, which a project can
change by editing its model files. Alembic's autogenerate comparison sets the store's
entity tables against the tables the model calls for; each difference is a
:class:`Change`. Additive ones (a new entity, a new field, a longer text) are applied by
``officehub store upgrade``; destructive ones (a dropped entity or field, a narrower
type) only with an explicit flag, and each applied change is written to the audit trail
by its table and column, never with a value.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model import ENTITIES
from officehub.store.schema import exact_search_indexes, hub_metadata

#: Kinds of change, and whether applying them destroys stored data.
ADD_TABLE, ADD_COLUMN, WIDEN_COLUMN = "add table", "add column", "widen column"
DROP_TABLE, DROP_COLUMN, NARROW_COLUMN = "drop table", "drop column", "change column type"
_DESTRUCTIVE = frozenset({DROP_TABLE, DROP_COLUMN, NARROW_COLUMN})


@dataclass(frozen=True)
class Change:
    """One difference between the store's entity tables and what the model calls for."""

    kind: str
    table: str
    column: str | None = None
    #: The type before and after, for a changed column ("VARCHAR(40) → VARCHAR(200)").
    detail: str | None = None

    @property
    def destructive(self) -> bool:
        """Whether applying it loses stored values."""
        return self.kind in _DESTRUCTIVE

    def describe(self) -> str:
        """One line for people: what changes, and what it destroys."""
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{self.kind} {where}" + (f" ({self.detail})" if self.detail else "")
        if self.kind == DROP_TABLE:
            return text + ": deletes every row of the table"
        if self.kind == DROP_COLUMN:
            return text + ": deletes the column's values in every row"
        if self.kind == NARROW_COLUMN:
            return text + ": values that do not fit the new type are refused or cut"
        return text

    def as_dict(self) -> dict[str, Any]:
        """For ``--json`` and the audit trail: names and kinds only."""
        return {"kind": self.kind, "table": self.table, "column": self.column, "detail": self.detail,
                "destructive": self.destructive}


def entity_tables(metadata: sa.MetaData | None = None) -> list[str]:
    """Names of the tables the model in force calls for (golden, source, history, children)."""
    metadata = metadata or hub_metadata()
    return [name for name in metadata.tables if _entity_of(name) in ENTITIES]


def _entity_of(table: str) -> str:
    return table.split("__", 1)[0]


def _bookkeeping_tables() -> set[str]:
    return {name for name in hub_metadata().tables if _entity_of(name) not in ENTITIES} | {"alembic_version"}


def compare(conn: sa.Connection) -> list[Change]:
    """Every difference between the store's entity tables and those the model in force calls for.

    A table of the store that is neither bookkeeping nor called for by the model is the
    table of an entity (or repeating group) the model no longer has.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    metadata = hub_metadata()
    wanted = set(entity_tables(metadata))
    ignored = _bookkeeping_tables()

    def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        if type_ == "table":
            return name not in ignored
        return parent_names.get("table_name") not in ignored

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return type_ in ("table", "column")

    context = MigrationContext.configure(conn, opts={
        "compare_type": True, "include_name": include_name, "include_object": include_object})
    subset = sa.MetaData()
    for name in sorted(wanted):
        metadata.tables[name].to_metadata(subset)
    with warnings.catch_warnings():
        # Only tables and columns are compared (include_object); SQLite cannot reflect an expression index
        # (the e-mail's lower() one, PostgreSQL's only), and both libraries say so for each table.
        warnings.filterwarnings("ignore", message=".*expression-based index", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*expression-based index", category=sa.exc.SAWarning)
        changes = compare_metadata(context, subset)
    return sorted(_changes(changes), key=lambda c: (c.destructive, c.table, c.column or ""))


def _changes(diffs: Iterable[Any]) -> Iterable[Change]:
    for diff in diffs:
        if isinstance(diff, list):  # modify_* come grouped per column
            yield from (c for c in (_modified(item) for item in diff) if c is not None)
            continue
        kind = diff[0]
        if kind == "add_table":
            yield Change(ADD_TABLE, diff[1].name)
        elif kind == "remove_table":
            yield Change(DROP_TABLE, diff[1].name)
        elif kind == "add_column":
            yield Change(ADD_COLUMN, diff[2], diff[3].name, str(diff[3].type))
        elif kind == "remove_column":
            yield Change(DROP_COLUMN, diff[2], diff[3].name)


def _modified(item: tuple) -> Change | None:
    if item[0] != "modify_type":
        return None  # nullability and defaults of entity columns are the hub's own business
    _, _, table, column, _info, before, after = item
    kind = WIDEN_COLUMN if _widens(before, after) else NARROW_COLUMN
    return Change(kind, table, column, f"{before} → {after}")


def _widens(before: Any, after: Any) -> bool:
    """Whether every value of type ``before`` fits ``after`` (a longer text, a bigger number)."""
    if isinstance(before, sa.String) and isinstance(after, sa.String):
        return after.length is None or (before.length is not None and after.length >= before.length)
    if isinstance(before, sa.Numeric) and isinstance(after, sa.Numeric):
        return ((after.precision or 0) - (after.scale or 0) >= (before.precision or 0) - (before.scale or 0)
                and (after.scale or 0) >= (before.scale or 0))
    if isinstance(before, sa.Integer) and isinstance(after, sa.BigInteger):
        return True
    return isinstance(before, sa.String | sa.Integer) and isinstance(after, sa.Text)


def apply(conn: sa.Connection, changes: list[Change]) -> None:
    """Apply ``changes`` (the caller has checked the destructive ones were allowed)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    metadata = hub_metadata()
    operations = Operations(MigrationContext.configure(conn))
    # New tables first, parents before their children (foreign keys).
    new_tables = {c.table for c in changes if c.kind == ADD_TABLE}
    for table in metadata.sorted_tables:
        if table.name in new_tables:
            table.create(conn)
    for change in changes:
        if change.kind == ADD_COLUMN:
            column = metadata.tables[change.table].c[change.column]
            operations.add_column(change.table, sa.Column(column.name, column.type, nullable=True))
            if change.table in ENTITIES:  # a golden table's search field arrives indexed
                for index in exact_search_indexes(metadata.tables[change.table]):
                    if change.column in str(index.expressions):
                        index.create(conn)
        elif change.kind in (WIDEN_COLUMN, NARROW_COLUMN):
            column = metadata.tables[change.table].c[change.column]
            with operations.batch_alter_table(change.table) as batch:
                batch.alter_column(change.column, type_=column.type)
        elif change.kind == DROP_COLUMN:
            for index in sa.inspect(conn).get_indexes(change.table):  # an index on it would outlive the column
                if change.column in (index.get("column_names") or []) and index["name"]:
                    operations.drop_index(index["name"], table_name=change.table)
            with operations.batch_alter_table(change.table) as batch:
                batch.drop_column(change.column)
    for change in changes:  # children before their parents
        if change.kind == DROP_TABLE:
            operations.drop_table(change.table)
