"""People who use the console: their accounts, roles, passwords and sign-ins.

Passwords are kept as argon2id hashes (argon2-cffi). A sign-in with a wrong password
counts against the account; after ``LOCK_AFTER`` failures in a row the account refuses
every sign-in for ``LOCK_MINUTES``, whatever the password, and the failure is audited
under the account's id (never the password, never a login name nobody has: a mistyped
password in the name field must not land in the audit trail). Disabling a user or
changing a password raises the account's session version, which ends every session
signed before it.

Every change is audited with the acting person (``console:<login>`` from the console,
``user:<os login>`` from the command line) and the account's id and login, never a secret.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from officehub.canonical_model.errors import FatalError, NotFound
from officehub.engine.context import as_utc, utc_now
from officehub.store import audit
from officehub.store.hub import HubStore
from officehub.store.schema import TABLES

#: The roles a user can hold, from the least to the most trusted; each role's rights are the console's to apply.
ROLES = ("viewer", "operator", "steward", "compliance", "admin")
#: Shortest password accepted: NIST SP 800-63B asks for at least 8; a console that reveals medical
#: and criminal records asks for more.
MIN_PASSWORD = 12
LOCK_AFTER = 5
LOCK_MINUTES = 15

_HASHER = PasswordHasher()
#: Verified against when the login is unknown, so a wrong login takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class LoginRefused(FatalError):
    """A sign-in that did not succeed. The message is the same whether the login or the password was wrong."""


@dataclass(frozen=True)
class User:
    """An account as the console sees it (no hash)."""

    id: int
    login: str
    display_name: str | None
    email: str | None
    roles: tuple[str, ...]
    status: str
    must_change_password: bool
    session_version: int
    has_password: bool
    single_sign_on: bool
    last_login_at: datetime | None
    created_at: datetime

    @property
    def actor(self) -> str:
        """How the audit trail names this user."""
        return f"console:{self.login}"

    @property
    def active(self) -> bool:
        """Whether the account may sign in."""
        return self.status == "active"

    def as_dict(self) -> dict[str, Any]:
        """The account as JSON-ready data."""
        return {"id": self.id, "login": self.login, "display_name": self.display_name, "email": self.email,
                "roles": list(self.roles), "status": self.status, "must_change_password": self.must_change_password,
                "password": self.has_password, "single_sign_on": self.single_sign_on,
                "last_login_at": self.last_login_at, "created_at": self.created_at}


def checked_roles(roles: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``roles`` in the order of :data:`ROLES`; FatalError naming any unknown one, or none at all."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise FatalError(f"unknown role(s) {', '.join(unknown)} (known: {', '.join(ROLES)})")
    if not roles:
        raise FatalError(f"a user needs at least one role ({', '.join(ROLES)})")
    return tuple(r for r in ROLES if r in roles)


def checked_password(password: str) -> str:
    """``password`` when it is long enough; FatalError saying the rule otherwise (never the password)."""
    if len(password) < MIN_PASSWORD:
        raise FatalError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def one_time_password() -> str:
    """A random password to hand over once; its holder must change it at the first sign-in."""
    return secrets.token_urlsafe(15)


def add(store: HubStore, actor: str, login: str, roles: list[str], *, display_name: str | None = None,
        email: str | None = None, password: str | None = None) -> tuple[User, str | None]:
    """Create a user; returns it and, when no password was given, the one-time password made for it."""
    login = login.strip()
    if not login or len(login) > 200 or any(c.isspace() for c in login):
        raise FatalError("a login is 1 to 200 characters without spaces")
    given = checked_roles(roles)
    made = None if password is not None else one_time_password()
    digest = _HASHER.hash(checked_password(password) if password is not None else str(made))
    table = TABLES["hub_user"]
    with store.begin() as conn:
        if conn.execute(sa.select(table.c.id).where(table.c.login == login)).first():
            raise FatalError(f"a user '{login}' exists already")
        new_id = conn.execute(sa.insert(table).values(
            login=login, display_name=display_name, email=email, roles=list(given), password_hash=digest,
            must_change_password=made is not None, created_by=actor).returning(table.c.id)).scalar_one()
        audit.append(conn, actor=actor, action="user.add", subject=f"user {new_id}",
                     detail={"login": login, "roles": list(given)})
        return _user(conn, sa.select(table).where(table.c.id == new_id)), made


def listed(store: HubStore) -> list[User]:
    """Every account, by login."""
    table = TABLES["hub_user"]
    with store.begin() as conn:
        return [_from_row(r) for r in conn.execute(sa.select(table).order_by(table.c.login)).mappings()]


def get(store: HubStore, user_id: int) -> User | None:
    """The account ``user_id``, or None."""
    table = TABLES["hub_user"]
    with store.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.id == user_id)).mappings().first()
    return _from_row(row) if row else None


def by_login(store: HubStore, login: str) -> User:
    """The account with ``login``; NotFound otherwise."""
    table = TABLES["hub_user"]
    with store.begin() as conn:
        return _user(conn, sa.select(table).where(table.c.login == login), login)


def set_status(store: HubStore, actor: str, login: str, active: bool) -> User:
    """Enable or disable an account; disabling ends its sessions and its sign-ins."""
    table = TABLES["hub_user"]
    with store.begin() as conn:
        user = _user(conn, sa.select(table).where(table.c.login == login), login)
        if user.active == active:
            return user
        conn.execute(sa.update(table).where(table.c.id == user.id).values(
            status="active" if active else "disabled", session_version=table.c.session_version + 1,
            failed_logins=0, locked_until=None))
        audit.append(conn, actor=actor, action="user.enable" if active else "user.disable",
                     subject=f"user {user.id}", detail={"login": login})
        return _user(conn, sa.select(table).where(table.c.id == user.id))


def set_roles(store: HubStore, actor: str, login: str, roles: list[str]) -> User:
    """Replace an account's roles (its sessions go on with the new rights at their next request)."""
    given = checked_roles(roles)
    table = TABLES["hub_user"]
    with store.begin() as conn:
        user = _user(conn, sa.select(table).where(table.c.login == login), login)
        conn.execute(sa.update(table).where(table.c.id == user.id).values(roles=list(given)))
        audit.append(conn, actor=actor, action="user.roles", subject=f"user {user.id}",
                     detail={"login": login, "roles": list(given), "before": list(user.roles)})
        return _user(conn, sa.select(table).where(table.c.id == user.id))


def set_password(store: HubStore, actor: str, login: str, password: str | None = None) -> str | None:
    """Set a new password (or make a one-time one, returned, that must be changed at the next sign-in).

    Every session of the account ends.
    """
    made = None if password is not None else one_time_password()
    digest = _HASHER.hash(checked_password(password) if password is not None else str(made))
    table = TABLES["hub_user"]
    with store.begin() as conn:
        user = _user(conn, sa.select(table).where(table.c.login == login), login)
        conn.execute(sa.update(table).where(table.c.id == user.id).values(
            password_hash=digest, must_change_password=made is not None, failed_logins=0, locked_until=None,
            session_version=table.c.session_version + 1))
        audit.append(conn, actor=actor, action="user.password", subject=f"user {user.id}",
                     detail={"login": login, "one_time": made is not None})
    return made


def change_own_password(store: HubStore, user_id: int, current: str, new: str) -> User:
    """A signed-in user replaces their password, proving the current one; their other sessions end."""
    table = TABLES["hub_user"]
    checked_password(new)
    with store.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.id == user_id)).mappings().first()
        if row is None or not _verified(row["password_hash"], current):
            raise LoginRefused("the current password is not right")
        if current == new:
            raise FatalError("the new password must differ from the current one")
        conn.execute(sa.update(table).where(table.c.id == user_id).values(
            password_hash=_HASHER.hash(new), must_change_password=False,
            session_version=table.c.session_version + 1))
        audit.append(conn, actor=f"console:{row['login']}", action="user.password", subject=f"user {user_id}",
                     detail={"login": row["login"], "one_time": False})
        return _user(conn, sa.select(table).where(table.c.id == user_id))


def authenticate(store: HubStore, login: str, password: str, *, now: datetime | None = None) -> User:
    """The active account whose password this is; LoginRefused (one message for every cause) otherwise.

    Failures count against a known account, which locks for :data:`LOCK_MINUTES` after
    :data:`LOCK_AFTER` of them in a row; a success resets the count and is audited as ``user.login``.
    """
    now = now or utc_now()
    table = TABLES["hub_user"]
    refused = LoginRefused("wrong login or password, or the account is disabled or locked; "
                           f"an account locks for {LOCK_MINUTES} minutes after {LOCK_AFTER} failed sign-ins")
    with store.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.login == login)).mappings().first()
        if row is None:
            _verified(None, password)
            raise refused
        locked = row["locked_until"] is not None and as_utc(row["locked_until"]) > now
        good = _verified(row["password_hash"], password) if not locked else False
        if good and row["status"] == "active":
            conn.execute(sa.update(table).where(table.c.id == row["id"]).values(
                failed_logins=0, locked_until=None, last_login_at=now))
            audit.append(conn, actor=f"console:{login}", action="user.login", subject=f"user {row['id']}",
                         detail={"method": "password"})
            return _user(conn, sa.select(table).where(table.c.id == row["id"]))
        failures = row["failed_logins"] + (0 if locked else 1)
        lock = now + timedelta(minutes=LOCK_MINUTES) if failures >= LOCK_AFTER and not locked else None
        conn.execute(sa.update(table).where(table.c.id == row["id"]).values(
            failed_logins=0 if lock else failures, **({"locked_until": lock} if lock else {})))
        audit.append(conn, actor="anonymous", action="user.login.failed", subject=f"user {row['id']}",
                     detail={"failures": failures, "locked": bool(lock) or locked,
                             "disabled": row["status"] != "active"})
    raise refused


def single_sign_on(store: HubStore, issuer: str, subject: str, *, login: str, display_name: str | None,
                   email: str | None, roles: list[str] | None) -> User:
    """The account of an OpenID provider's user, created on the first sign-in.

    ``roles`` are the provider's roles for the user (from its roles claim), which replace the
    account's at every sign-in; None leaves an existing account's roles as they are and gives a
    new one the role ``viewer``. A disabled account stays refused.
    """
    key = f"{issuer} {subject}"
    given = checked_roles([r for r in roles if r in ROLES]) if roles else None
    table = TABLES["hub_user"]
    with store.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.oidc_subject == key)).mappings().first()
        if row is None:
            if conn.execute(sa.select(table.c.id).where(table.c.login == login)).first():
                raise LoginRefused(f"a local account '{login}' exists already: sign in with its password, or ask an "
                                   "administrator to disable it so the provider's account gets its own login")
            user_id = conn.execute(sa.insert(table).values(
                login=login, display_name=display_name, email=email, roles=list(given or ("viewer",)),
                oidc_subject=key, created_by=f"sso:{issuer}").returning(table.c.id)).scalar_one()
            audit.append(conn, actor=f"sso:{issuer}", action="user.add", subject=f"user {user_id}",
                         detail={"login": login, "roles": list(given or ("viewer",)), "single_sign_on": True})
        else:
            user_id = row["id"]
            if row["status"] != "active":
                raise LoginRefused("this account is disabled")
            if given is not None and tuple(row["roles"]) != given:
                conn.execute(sa.update(table).where(table.c.id == user_id).values(roles=list(given)))
                audit.append(conn, actor=f"sso:{issuer}", action="user.roles", subject=f"user {user_id}",
                             detail={"login": row["login"], "roles": list(given), "before": list(row["roles"])})
        # The provider keeps the person's name and address: the account follows it at each sign-in.
        conn.execute(sa.update(table).where(table.c.id == user_id).values(
            last_login_at=utc_now(), display_name=display_name, email=email))
        user = _user(conn, sa.select(table).where(table.c.id == user_id))
        audit.append(conn, actor=user.actor, action="user.login", subject=f"user {user_id}",
                     detail={"method": "single sign-on"})
        return user


def _verified(digest: str | None, password: str) -> bool:
    """Whether ``password`` matches ``digest``; an account without a password (single sign-on only) matches
    nothing, after the same work as a real check."""
    try:
        return _HASHER.verify(digest or _DUMMY_HASH, password) and digest is not None
    except (VerificationError, InvalidHashError):
        return False



def _user(conn: sa.Connection, query: sa.Select[Any], login: str | None = None) -> User:
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no user '{login}'" if login else "no such user")
    return _from_row(row)


def _from_row(row: Any) -> User:
    return User(id=row["id"], login=row["login"], display_name=row["display_name"], email=row["email"],
                roles=tuple(row["roles"]), status=row["status"], must_change_password=row["must_change_password"],
                session_version=row["session_version"], has_password=row["password_hash"] is not None,
                single_sign_on=row["oidc_subject"] is not None, last_login_at=row["last_login_at"],
                created_at=row["created_at"])
