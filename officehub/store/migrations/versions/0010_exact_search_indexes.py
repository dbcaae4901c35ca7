"""Index the fields the hub API's exact search compares: a search is a look-up at any size, not a scan.

On every golden table that has them (built-in and declared entities alike): ``lower(contact__email)``
(the search ignores case), ``contact__phone``, ``tax_id__number`` and ``organisation__registration_number``.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from officehub.store.schema import exact_search_indexes

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _entities(conn: sa.Connection) -> list[str]:
    """Golden tables: those with a source layer beside them (built-in and declared entities alike)."""
    names = set(sa.inspect(conn).get_table_names())
    return sorted(name[: -len("__source")] for name in names if name.endswith("__source") and
                  name[: -len("__source")] in names)


def upgrade() -> None:
    conn = op.get_bind()
    for entity in _entities(conn):
        existing = {index["name"] for index in sa.inspect(conn).get_indexes(entity)}
        for index in exact_search_indexes(sa.Table(entity, sa.MetaData(), autoload_with=conn)):
            if index.name not in existing:
                index.create(conn)


def downgrade() -> None:
    conn = op.get_bind()
    for entity in _entities(conn):
        for index in exact_search_indexes(sa.Table(entity, sa.MetaData(), autoload_with=conn)):
            op.drop_index(index.name, table_name=entity)
