"""Index golden records by purge date; leave room for in-place updates of source copies and xrefs.

The due-for-purge check every ingest makes becomes a look-up instead of a scan. On
PostgreSQL, source tables and xref keep 15 % of each page free: an incremental sync
rewrites a system's copy of a record (or the echo hash on its xref) without touching
any indexed column, and with room on the page PostgreSQL does that as a heap-only
update, without new entries in every index (measured: 10k changed copies of a
1M-row source table upserted in 0.21 s instead of 0.65 s). Tables that already hold
rows apply the setting to pages written from now on.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from officehub.canonical_model import ENTITIES
from officehub.store.schema import UPDATED_IN_PLACE, hub_metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FILLFACTOR = 85


def upgrade() -> None:
    bind = op.get_bind()
    tables = hub_metadata(3).tables
    for entity in ENTITIES:
        for index in tables[entity].indexes:
            if index.name == f"ix_{entity}_purge_after":
                index.create(bind)
    if bind.dialect.name == "postgresql":
        preparer = bind.dialect.identifier_preparer
        for name in UPDATED_IN_PLACE:
            op.execute(f"ALTER TABLE {preparer.quote(name)} SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in UPDATED_IN_PLACE:
            op.execute(f'ALTER TABLE "{name}" RESET (fillfactor)')
    for entity in ENTITIES:
        op.drop_index(f"ix_{entity}_purge_after", table_name=entity)
