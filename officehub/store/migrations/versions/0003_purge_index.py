"""Index golden records by purge date, so the due-for-purge check of every ingest is a look-up.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from canonical_model import ENTITIES
from officehub.store.schema import hub_metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    tables = hub_metadata(3).tables
    for entity in ENTITIES:
        for index in tables[entity].indexes:
            if index.name == f"ix_{entity}_purge_after":
                index.create(bind)


def downgrade() -> None:
    for entity in ENTITIES:
        op.drop_index(f"ix_{entity}_purge_after", table_name=entity)
