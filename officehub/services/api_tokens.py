"""Applications' API tokens: issued once, stored as a digest, scoped, expiring, revocable.

A token is ``ohk_<id prefix>_<secret>``: 32 random bytes, shown once when it is made. The
hub keeps its SHA-256 digest (a token has the entropy a password lacks, so a fast digest
is safe and lets every request find its token with one indexed look-up) and an eight-character
prefix people can tell tokens apart by. A token belongs to one API client — a destination
with its own agreement and policy — and carries the scopes it may use.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError, NotFound
from officehub.engine.context import as_utc, utc_now
from officehub.store import audit
from officehub.store.hub import HubStore
from officehub.store.schema import TABLES

#: What a token may do: read records by id, search, follow the changes feed, submit records.
SCOPES = ("read", "search", "changes", "submit")
_PREFIX = "ohk_"
#: ``last_used_at`` is written at most this often per token: not a write per request.
_TOUCH_EVERY = timedelta(minutes=1)
#: How long a server process trusts a token it looked up (:class:`Holders`): a revocation reaches it within this.
HOLDER_TTL_SECONDS = 5.0


@dataclass(frozen=True)
class ApiToken:
    """A token as lists show it: never the token itself."""

    id: int
    client: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    created_by: str

    @property
    def actor(self) -> str:
        """How the audit trail names the application using this token."""
        return f"client:{self.client}"

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or as_utc(self.expires_at) > now)

    def as_dict(self) -> dict[str, Any]:
        """The token's description as JSON-ready data."""
        return {"id": self.id, "client": self.client, "name": self.name, "prefix": self.prefix,
                "scopes": list(self.scopes), "expires_at": self.expires_at, "revoked_at": self.revoked_at,
                "last_used_at": self.last_used_at, "created_at": self.created_at, "created_by": self.created_by}


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(store: HubStore, actor: str, client: str, name: str, scopes: list[str], *,
          expires_days: int | None = 365, known_clients: list[str] | None = None) -> tuple[ApiToken, str]:
    """A new token for ``client`` with ``scopes``; returns its description and the token, shown this once."""
    if known_clients is not None and client not in known_clients:
        raise FatalError(f"no API client '{client}' in the configuration (serve.clients: "
                         f"{', '.join(known_clients) or 'none'})")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise FatalError(f"scopes must be some of {', '.join(SCOPES)}" + (f"; unknown: {', '.join(unknown)}"
                                                                          if unknown else ""))
    if expires_days is not None and expires_days < 1:
        raise FatalError("a token expires after at least one day (or never, if asked for)")
    secret = secrets.token_urlsafe(32)
    token = f"{_PREFIX}{secret}"
    expires = utc_now() + timedelta(days=expires_days) if expires_days is not None else None
    table = TABLES["api_token"]
    with store.begin() as conn:
        new_id = conn.execute(sa.insert(table).values(
            client=client, name=name, prefix=token[:len(_PREFIX) + 8], digest=digest(token),
            scopes=[s for s in SCOPES if s in scopes], expires_at=expires, created_by=actor).returning(table.c.id)).scalar_one()
        audit.append(conn, actor=actor, action="token.issue", subject=f"token {new_id}",
                     detail={"client": client, "name": name, "scopes": sorted(scopes),
                             "expires_days": expires_days})
        return _token(conn, new_id), token


def listed(store: HubStore, client: str | None = None) -> list[ApiToken]:
    """Every token (of ``client``), newest first."""
    table = TABLES["api_token"]
    query = sa.select(table).order_by(table.c.id.desc())
    if client is not None:
        query = query.where(table.c.client == client)
    with store.begin() as conn:
        return [_from_row(r) for r in conn.execute(query).mappings()]


def revoke(store: HubStore, actor: str, token_id: int) -> ApiToken:
    """Revoke a token: every request with it is refused from now on."""
    table = TABLES["api_token"]
    with store.begin() as conn:
        found = _token(conn, token_id)
        if found.revoked_at is None:
            conn.execute(sa.update(table).where(table.c.id == token_id).values(revoked_at=utc_now()))
            audit.append(conn, actor=actor, action="token.revoke", subject=f"token {token_id}",
                         detail={"client": found.client, "name": found.name})
        return _token(conn, token_id)


def holder(store: HubStore, token: str, *, now: datetime | None = None) -> ApiToken | None:
    """The usable token ``token`` is, or None (unknown, revoked or expired)."""
    if not token.startswith(_PREFIX):
        return None
    now = now or utc_now()
    table = TABLES["api_token"]
    with store.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.digest == digest(token))).mappings().first()
        if row is None:
            return None
        found = _from_row(row)
        if not found.usable(now):
            return None
        if found.last_used_at is None or as_utc(found.last_used_at) < now - _TOUCH_EVERY:
            conn.execute(sa.update(table).where(table.c.id == found.id).values(last_used_at=now))
        return found


class Holders:
    """:func:`holder` remembered for a few seconds, per server process: no transaction per request.

    A token looked up within the last ``ttl`` seconds is not looked up again, so a token
    revoked (or a client's token issued anew) takes effect in each process within ``ttl``
    seconds, not at once; an expiry is checked on every use. ``last_used_at`` is written
    only when a look-up reaches the store (at most once a minute per token).
    """

    def __init__(self, ttl: float = HOLDER_TTL_SECONDS, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._seen: dict[str, tuple[ApiToken | None, float]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str, *, now: datetime | None = None) -> tuple[bool, ApiToken | None]:
        """(True, what :meth:`of` answers) when ``token`` was looked up within the last ``ttl`` seconds,
        without reading the store; else (False, None)."""
        seen = self._seen.get(digest(token))
        if seen is None or time.monotonic() - seen[1] >= self.ttl:
            return False, None
        found = seen[0]
        return True, found if found is not None and found.usable(now or utc_now()) else None

    def of(self, store: HubStore, token: str, *, now: datetime | None = None) -> ApiToken | None:
        """The usable token ``token`` is, or None (unknown, revoked or expired), as of at most ``ttl`` seconds ago."""
        hit, found = self.cached(token, now=now)
        if hit:
            return found
        found = holder(store, token, now=now)
        with self._lock:
            if len(self._seen) >= self.size:  # unknown tokens sent at random must not grow it for ever
                self._seen.clear()
            self._seen[digest(token)] = (found, time.monotonic())
        return found


def _token(conn: sa.Connection, token_id: int) -> ApiToken:
    table = TABLES["api_token"]
    row = conn.execute(sa.select(table).where(table.c.id == token_id)).mappings().first()
    if row is None:
        raise NotFound(f"no API token {token_id}")
    return _from_row(row)


def _from_row(row: Any) -> ApiToken:
    return ApiToken(id=row["id"], client=row["client"], name=row["name"], prefix=row["prefix"],
                    scopes=tuple(row["scopes"]), expires_at=row["expires_at"], revoked_at=row["revoked_at"],
                    last_used_at=row["last_used_at"], created_at=row["created_at"], created_by=row["created_by"])
