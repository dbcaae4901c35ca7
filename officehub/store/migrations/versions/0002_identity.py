"""Identity resolution: source layer, history, record status and lineage, match keys, review queue, link log.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from officehub.canonical_model import ENTITIES
from officehub.store.schema import golden_state_columns, hub_metadata, run_revision2_columns, xref_revision2_columns

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _new_tables():
    before = hub_metadata(1).tables
    return [table for name, table in hub_metadata(2).tables.items() if name not in before]


def upgrade() -> None:
    bind = op.get_bind()
    for table in _new_tables():
        table.create(bind)
    for entity in ENTITIES:
        with op.batch_alter_table(entity) as batch:
            for column in golden_state_columns():
                batch.add_column(column)
    for name, columns in (("xref", xref_revision2_columns()), ("run", run_revision2_columns())):
        with op.batch_alter_table(name) as batch:
            for column in columns:
                batch.add_column(column)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_new_tables()):
        table.drop(bind)
    for entity in ENTITIES:
        with op.batch_alter_table(entity) as batch:
            for column in golden_state_columns():
                batch.drop_column(column.name)
    for name, columns in (("xref", xref_revision2_columns()), ("run", run_revision2_columns())):
        with op.batch_alter_table(name) as batch:
            for column in columns:
                batch.drop_column(column.name)
