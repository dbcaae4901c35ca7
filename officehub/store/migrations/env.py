"""Alembic environment: runs on the connection officehub hands over."""

from alembic import context

from officehub.store.schema import hub_metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=hub_metadata(), render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
