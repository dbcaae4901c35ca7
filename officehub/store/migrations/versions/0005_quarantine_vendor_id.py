"""The vendor id of each quarantine entry, so a pipeline keeps one open entry per vendor record.

Entries stored before this revision keep a null vendor id: ingest never merges into them,
and replay reads their key from the raw row.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from officehub.store.schema import hub_metadata, quarantine_revision5_columns

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        for column in quarantine_revision5_columns():
            batch.add_column(column)
    for index in hub_metadata(5).tables["quarantine"].indexes:
        if index.name == "ix_quarantine_record":
            index.create(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_quarantine_record", table_name="quarantine")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("vendor_id")
