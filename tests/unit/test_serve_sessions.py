"""Session cookies, CSRF tokens, the per-address sign-in limit, rights of roles, and safe redirects."""

from __future__ import annotations

import time

import pytest

from officehub.serve.console.auth import safe_next
from officehub.serve.limits import AttemptLimiter
from officehub.serve.rights import ROLE_RIGHTS, Right, rights_of
from officehub.serve.sessions import Sessions
from officehub.services.accounts import ROLES


def test_a_signed_session_reads_back_and_a_forged_or_foreign_one_does_not() -> None:
    sessions = Sessions("key-one-" * 4, 3600)
    session = sessions.new().signed_in(7, 3)
    cookie = sessions.sign(session)
    back = sessions.read(cookie)
    assert back is not None and (back.user_id, back.version, back.csrf) == (7, 3, session.csrf)
    assert sessions.read(cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]) is None
    assert Sessions("key-two-" * 4, 3600).read(cookie) is None
    assert sessions.read("") is None and sessions.read("not.a.cookie") is None


def test_a_session_older_than_its_lifetime_has_ended() -> None:
    sessions = Sessions("key-one-" * 4, 1)
    cookie = sessions.sign(sessions.new().signed_in(1, 1))
    time.sleep(2.1)
    assert sessions.read(cookie) is None


def test_signing_in_gives_a_new_csrf_token_and_tokens_compare_exactly() -> None:
    anonymous = Sessions("k" * 32, 60).new()
    signed = anonymous.signed_in(1, 1)
    assert signed.csrf != anonymous.csrf
    assert signed.csrf_matches(signed.csrf)
    assert not signed.csrf_matches(anonymous.csrf) and not signed.csrf_matches(None) and not signed.csrf_matches("")


def test_the_sign_in_limit_counts_per_address_within_a_minute() -> None:
    limiter = AttemptLimiter(3)
    assert [limiter.allow("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("10.0.0.2")


def test_every_role_has_rights_and_an_administrator_cannot_reveal_or_settle_matches() -> None:
    assert set(ROLE_RIGHTS) == set(ROLES)
    assert all(Right.VIEW in rights for rights in ROLE_RIGHTS.values())
    admin = rights_of(["admin"])
    assert Right.REVEAL not in admin and Right.STEWARD not in admin and Right.COMPLY not in admin
    assert rights_of(["steward", "compliance"]) == {Right.VIEW, Right.STEWARD, Right.REVEAL, Right.COMPLY}


@pytest.mark.parametrize(("target", "expected"), [
    ("/reviews", "/reviews"), ("/runs/3?offset=50", "/runs/3?offset=50"), ("", "/"), (None, "/"),
    ("//evil.example", "/"), ("https://evil.example", "/"), ("/\\evil.example", "/"), ("evil", "/")])
def test_after_signing_in_only_this_consoles_own_paths_are_followed(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
