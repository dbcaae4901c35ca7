"""Schema migrations of the hub store (Alembic), run automatically on open.

Alembic (and with it every SQLAlchemy dialect it supports) is imported only when a
store actually needs migrating: a store already at :data:`HEAD` is recognised with one
query, which keeps about 30 MB and a good part of a second off every run and command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from officehub.store.schema import LATEST

_SCRIPTS = Path(__file__).parent / "migrations"

#: The newest migration this version of officehub ships (a test holds it equal to Alembic's head).
HEAD = f"{LATEST:04d}"


def _config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head_revision() -> str:
    """The newest migration script, as Alembic reads it from the migrations folder."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the store is at, or None for an empty store."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the store to the newest schema; returns (from, to) revisions."""
    before = current_revision(engine)
    if before == HEAD:
        return before, HEAD
    from alembic import command

    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, HEAD
