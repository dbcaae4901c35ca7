"""A record one system alone supplies is stored once: its golden row carries the system's key (ADR 0018).

Adds the ``sole_*`` columns and their unique index to every golden table, then folds each
record that qualifies: its only copy becomes the golden row's ``sole_*`` bookkeeping and the
copy and its cross-reference go. A record qualifies when it is active, has exactly one source
row, that row is live and filed under the record its cross-reference names (not erased), and
the golden row holds exactly the copy's values. Everything else (several sources, deleted,
merged, purged or erased records, destination links) is left as it is.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from officehub.store.schema import sole_columns, sole_index

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BOOKKEEPING = {"canonical_id", "version", "content_hash", "change_seq", "schema_version", "updated_at", "status",
                "merged_into", "deleted_at", "purge_after", "changed_by", "run_id", "lineage"}


def _entities(conn: sa.Connection) -> list[str]:
    """Golden tables: those with a source layer beside them (built-in and declared entities alike)."""
    names = set(sa.inspect(conn).get_table_names())
    return sorted(name[: -len("__source")] for name in names if name.endswith("__source") and
                  name[: -len("__source")] in names)


def upgrade() -> None:
    conn = op.get_bind()
    for entity in _entities(conn):
        with op.batch_alter_table(entity) as batch:
            for column in sole_columns():
                batch.add_column(column)
        op.create_index(sole_index(entity).name, entity, ["sole_system", "sole_vendor_id"], unique=True)
        _fold(conn, entity)


def _fold(conn: sa.Connection, entity: str) -> None:
    meta = sa.MetaData()
    golden = sa.Table(entity, meta, autoload_with=conn)
    source = sa.Table(f"{entity}__source", meta, autoload_with=conn)
    xref = sa.Table("xref", meta, autoload_with=conn)
    values = [c.name for c in golden.columns if c.name not in _BOOKKEEPING and not c.name.startswith("sole_")]
    other = source.alias("other")
    fold = sa.Table("officehub_fold", meta, sa.Column("canonical_id", sa.String(36), primary_key=True),
                    sa.Column("system", sa.String(100)), sa.Column("vendor_id", sa.String(200)),
                    sa.Column("changed_at", source.c.changed_at.type), sa.Column("seen_run", sa.Integer),
                    sa.Column("sent_hash", sa.String(64)), sa.Column("xref_id", sa.Integer))
    fold.create(conn)
    qualifying = (
        sa.select(golden.c.canonical_id, source.c.system, source.c.vendor_id, source.c.changed_at,
                  source.c.seen_run, xref.c.sent_hash, xref.c.id)
        .select_from(golden
                     .join(source, source.c.canonical_id == golden.c.canonical_id)
                     .join(xref, sa.and_(xref.c.system == source.c.system, xref.c.entity == entity,
                                         xref.c.vendor_id == source.c.vendor_id,
                                         xref.c.canonical_id == golden.c.canonical_id)))
        .where(golden.c.status == "active", source.c.deleted_at.is_(None), xref.c.erased_at.is_(None),
               golden.c.content_hash == source.c.content_hash,
               *(golden.c[name].isnot_distinct_from(source.c[name]) for name in values),
               ~sa.exists().where(other.c.canonical_id == golden.c.canonical_id, other.c.id != source.c.id))
    )
    conn.execute(sa.insert(fold).from_select(
        ["canonical_id", "system", "vendor_id", "changed_at", "seen_run", "sent_hash", "xref_id"], qualifying))
    folded = sa.select(fold.c.canonical_id)

    def of_fold(column: str) -> sa.ScalarSelect:
        return sa.select(fold.c[column]).where(fold.c.canonical_id == golden.c.canonical_id).scalar_subquery()

    conn.execute(sa.update(golden).where(golden.c.canonical_id.in_(folded)).values(
        sole_system=of_fold("system"), sole_vendor_id=of_fold("vendor_id"), sole_changed_at=of_fold("changed_at"),
        sole_seen_run=of_fold("seen_run"), sole_sent_hash=of_fold("sent_hash")))
    conn.execute(sa.delete(source).where(source.c.canonical_id.in_(folded)))
    conn.execute(sa.delete(xref).where(xref.c.id.in_(sa.select(fold.c.xref_id))))
    fold.drop(conn)


def downgrade() -> None:
    raise NotImplementedError("revision 8 folds copies into golden rows; restore a backup to go back")
