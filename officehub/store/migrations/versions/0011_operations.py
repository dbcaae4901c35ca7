"""Operations: each source stream's last discovered schema and its changes (drift), and alert incidents.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from officehub.store.schema import hub_metadata

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _new_tables() -> list[str]:
    """The tables revision 11 adds (their definitions: ``drift_tables`` and ``alert_tables``)."""
    before = set(hub_metadata(10).tables)
    return [name for name in hub_metadata(11).tables if name not in before]


def upgrade() -> None:
    tables = hub_metadata(11).tables
    for name in _new_tables():
        tables[name].create(op.get_bind())


def downgrade() -> None:
    for name in reversed(_new_tables()):
        op.drop_table(name)
