"""Accounts of ``officehub serve``: console users, API tokens, four-eyes approvals, the session secret.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from officehub.store.schema import hub_metadata

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


_TABLES = ("hub_user", "api_token", "approval", "hub_secret")


def upgrade() -> None:
    tables = hub_metadata(9).tables
    for name in _TABLES:
        tables[name].create(op.get_bind())


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
