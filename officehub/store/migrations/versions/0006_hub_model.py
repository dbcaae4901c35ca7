"""The canonical model the entity tables were shaped for (docs/adr/0012).

The model in force when the store reaches this revision is recorded as its first row
by the first open after the upgrade (officehub.store.model_state), not here: a
migration only shapes tables.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from officehub.store.schema import hub_metadata

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    hub_metadata(6).tables["hub_model"].create(op.get_bind())


def downgrade() -> None:
    op.drop_table("hub_model")
