"""Field-level data-quality flags (mappings' ``on_error: flag``) and per-run flagged and nulled counts.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from officehub.store.schema import hub_metadata, run_revision7_columns

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch:
        for column in run_revision7_columns():
            batch.add_column(column)
    hub_metadata(7).tables["field_flag"].create(op.get_bind())


def downgrade() -> None:
    op.drop_table("field_flag")
    with op.batch_alter_table("run") as batch:
        batch.drop_column("fields_nulled")
        batch.drop_column("fields_flagged")
