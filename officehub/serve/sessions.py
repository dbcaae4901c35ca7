"""Signed session cookies and their CSRF tokens.

A session is a cookie signed with the hub's session key (itsdangerous): the user's id,
the account's session version (raised when the password changes or the user is disabled,
which ends every earlier session), the CSRF token of the session and when it was last
renewed. Nothing else lives in it; everything about the user is read from the hub store on
each request, so a role taken away applies at once. A visitor who has not signed in gets
a session too, without a user, so the sign-in form has a CSRF token of its own.

The cookie is HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS. It
expires after ``serve.session_hours`` without a request and is renewed as it is used.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, replace

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "officehub_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
#: A cookie is re-signed (its expiry moved on) at most this often.
_RENEW_AFTER = 300


@dataclass(frozen=True)
class Session:
    """What a session cookie carries."""

    csrf: str
    user_id: int | None = None
    version: int = 0
    renewed: float = 0.0

    def signed_in(self, user_id: int, version: int) -> Session:
        """A new session for a user who just signed in: a new CSRF token too (no fixation)."""
        return Session(csrf=secrets.token_urlsafe(24), user_id=user_id, version=version, renewed=time.time())

    def csrf_matches(self, given: str | None) -> bool:
        """Whether ``given`` is this session's CSRF token (compared in constant time)."""
        return bool(given) and hmac.compare_digest(self.csrf.encode(), str(given).encode())


class Sessions:
    """Signs and reads session cookies with one key."""

    def __init__(self, key: str, max_age_seconds: float) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="officehub-session")
        self.max_age = int(max_age_seconds)

    def new(self) -> Session:
        """A session for a visitor who has not signed in."""
        return Session(csrf=secrets.token_urlsafe(24), renewed=time.time())

    def read(self, cookie: str | None) -> Session | None:
        """The session in ``cookie``; None when it is missing, forged, garbled or expired."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
            return Session(csrf=str(data["c"]), user_id=data.get("u"), version=int(data.get("v", 0)),
                           renewed=float(data.get("t", 0)))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def sign(self, session: Session) -> str:
        """The cookie value of ``session``."""
        return self._serializer.dumps({"c": session.csrf, "u": session.user_id, "v": session.version,
                                       "t": session.renewed})

    @staticmethod
    def due_for_renewal(session: Session) -> bool:
        """Whether the cookie should be signed again to move its expiry on."""
        return time.time() - session.renewed > _RENEW_AFTER

    @staticmethod
    def renewed(session: Session) -> Session:
        """``session`` with its renewal time now."""
        return replace(session, renewed=time.time())
