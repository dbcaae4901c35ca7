"""The hub store's tables, as SQLAlchemy Core metadata.

Golden-record tables are generated from the canonical model: one table per
entity (nested single values flattened into columns), one child table per
repeating group. So the hub store is itself the shared, queryable database of
customers, products and employees. The bookkeeping tables (xref, checkpoints,
runs, quarantine, audit) are fixed.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa

from canonical_model import ENTITIES, EntityLayout, LeafField, layout

ID = sa.String(36)
HASH = sa.String(64)


def _column(leaf: LeafField) -> sa.Column:
    from connectors.sql.types import sql_type  # the one Arrow → SQL type table we keep

    return sa.Column(leaf.column, sql_type(leaf.arrow_type), nullable=True)


def _golden_table(metadata: sa.MetaData, lay: EntityLayout) -> None:
    sa.Table(
        lay.entity, metadata,
        sa.Column("canonical_id", ID, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", HASH, nullable=False),
        sa.Column("change_seq", sa.BigInteger, nullable=False, index=True),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *(_column(leaf) for leaf in lay.fields),
        comment=f"golden records: {lay.entity}",
    )
    for coll in lay.collections:
        sa.Table(
            child_table_name(lay.entity, coll.name), metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("canonical_id", ID, sa.ForeignKey(f"{lay.entity}.canonical_id"), nullable=False, index=True),
            sa.Column("system", sa.String(100), nullable=False),
            sa.Column("vendor_id", sa.String(200), nullable=False),
            sa.Column("content_hash", HASH, nullable=False),
            *(_column(leaf) for leaf in coll.fields),
            sa.UniqueConstraint("system", "vendor_id", name=f"uq_{lay.entity}_{coll.name}_source"),
            comment=f"repeating group {coll.name} of {lay.entity}",
        )


def child_table_name(entity: str, collection: str) -> str:
    """Name of the child table holding ``entity``'s repeating group ``collection``."""
    return f"{entity}__{collection}"


def _bookkeeping(metadata: sa.MetaData) -> None:
    now = sa.func.current_timestamp()
    sa.Table(
        "xref", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("system", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("vendor_id", sa.String(200), nullable=False),
        sa.Column("canonical_id", ID, nullable=False, index=True),
        sa.Column("record_hash", HASH),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.UniqueConstraint("system", "entity", "vendor_id", name="uq_xref_source"),
    )
    sa.Table(
        "change_counter", metadata,
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "checkpoint", metadata,
        sa.Column("pipeline", sa.String(200), primary_key=True),
        sa.Column("cursor", sa.JSON, nullable=True),
        sa.Column("run_id", sa.Integer),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "run", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(200), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("records_read", sa.BigInteger, nullable=False, default=0),
        sa.Column("records_written", sa.BigInteger, nullable=False, default=0),
        sa.Column("records_unchanged", sa.BigInteger, nullable=False, default=0),
        sa.Column("records_quarantined", sa.BigInteger, nullable=False, default=0),
        sa.Column("fields_redacted", sa.BigInteger, nullable=False, default=0),
        sa.Column("error", sa.Text),
    )
    sa.Table(
        "quarantine", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False, index=True),
        sa.Column("pipeline", sa.String(200), nullable=False, index=True),
        sa.Column("system", sa.String(100), nullable=False),
        sa.Column("stream", sa.String(200), nullable=False),
        sa.Column("position", sa.String(400), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open", index=True),
        sa.Column("resolved_run_id", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
    )
    sa.Table(
        "audit", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hash", HASH, nullable=False),
        sa.Column("hash", HASH, nullable=False, unique=True),
    )


@cache
def hub_metadata() -> sa.MetaData:
    """All hub-store tables for the current canonical model."""
    metadata = sa.MetaData()
    _bookkeeping(metadata)
    for entity in ENTITIES:
        _golden_table(metadata, layout(entity))
    return metadata
