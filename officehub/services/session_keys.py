"""The key that signs console sessions when the configuration names none: made once, kept in the hub store.

Every server process on the same store reads the same key, so a session signed by one
is good at the others. Rotating it (``officehub user rotate-sessions``) signs everybody out.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from officehub.store import audit
from officehub.store.hub import HubStore
from officehub.store.schema import TABLES

_NAME = "session"


def stored_key(store: HubStore) -> str:
    """The hub store's session key, made on first use."""
    table = TABLES["hub_secret"]
    with store.begin() as conn:
        found = conn.execute(sa.select(table.c.value).where(table.c.name == _NAME)).scalar()
    if found is not None:
        return str(found)
    try:
        with store.begin() as conn:
            conn.execute(sa.insert(table).values(name=_NAME, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process made it first: theirs is read below
    with store.begin() as conn:
        return str(conn.execute(sa.select(table.c.value).where(table.c.name == _NAME)).scalar_one())


def rotate(store: HubStore, actor: str) -> None:
    """Replace the stored session key: every session signed with it ends."""
    table = TABLES["hub_secret"]
    with store.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.name == _NAME))
        conn.execute(sa.insert(table).values(name=_NAME, value=secrets.token_urlsafe(48)))
        audit.append(conn, actor=actor, action="sessions.rotate", subject="session key", detail={})
