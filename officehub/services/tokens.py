"""Detokenize: recover the value behind a token, with a stated reason, audited whether or not it works.

Every attempt is written to the audit trail — ``detokenize`` when the value was recovered,
``detokenize.failed`` (with why) when it was refused or the token did not verify — so that
guessing tokens or keys leaves a trace. The entry holds a digest of the token, never the
token or the value. The service commits its own transactions: a failed attempt's entry must
stay although the operation raises.
"""

from __future__ import annotations

import hashlib
from typing import Any

from officehub.canonical_model.errors import OfficehubError
from officehub.config import Project
from officehub.policies import detokenize as open_token
from officehub.services.reasons import stated_reason
from officehub.store import audit
from officehub.store.hub import HubStore


def token_digest(token: str) -> str:
    """A short SHA-256 digest that lets an auditor match attempts on one token without keeping the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def detokenize(project: Project, store: HubStore, actor: str, token: str, field: str, reason: str | None) -> str:
    """The value ``token`` was made from for ``field`` (e.g. ``employee.bank_account_iban``).

    Refused without a reason of at least ten characters; every attempt is audited, the value is
    returned only once its ``detokenize`` entry is committed.
    """
    detail: dict[str, Any] = {"token_sha256": token_digest(token), "reason": (reason or "").strip()}
    try:
        stated_reason(reason, "detokenize")
        value = open_token(token, field, project.keyring())
    except OfficehubError as exc:
        with store.begin() as conn:
            audit.append(conn, actor=actor, action="detokenize.failed", subject=field,
                         detail={**detail, "outcome": "failed", "error": exc.describe()})
        raise
    with store.begin() as conn:
        audit.append(conn, actor=actor, action="detokenize", subject=field, detail={**detail, "outcome": "recovered"})
    return value
