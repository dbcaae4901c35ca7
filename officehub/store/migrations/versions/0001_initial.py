"""Initial hub store: bookkeeping tables and golden-record tables of canonical model v1.

Revision ID: 0001
Revises:
"""

from alembic import op

from officehub.store.schema import hub_metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Schema revision 1, generated from canonical model schema_version 1 (see docs/adr/0003). A later
    # change to the model comes with a migration of its own that alters these tables.
    hub_metadata(1).create_all(op.get_bind())


def downgrade() -> None:
    hub_metadata(1).drop_all(op.get_bind())
