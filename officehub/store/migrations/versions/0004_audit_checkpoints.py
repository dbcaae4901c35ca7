"""Signed checkpoints of the audit chain's head, so truncating or rewriting the chain is detected.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from officehub.store.schema import hub_metadata

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _new_tables():
    before = hub_metadata(3).tables
    return [table for name, table in hub_metadata(4).tables.items() if name not in before]


def upgrade() -> None:
    bind = op.get_bind()
    for table in _new_tables():
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_new_tables()):
        table.drop(bind)
