"""The audit trail as an auditor reads it: its newest entries, its verification, its signed checkpoints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from officehub.canonical_model.errors import FatalError
from officehub.engine.context import RunContext
from officehub.store import audit, audit_anchor
from officehub.store.audit import Verification
from officehub.store.audit_anchor import AuditKeys, Checkpoint
from officehub.store.hub import HubStore

__all__ = ["NO_SIGNING_KEY", "AuditKeys", "Checkpoint", "SigningKey", "Verification", "append_entries",
           "checkpoint", "entries", "new_signing_key", "trusting", "verify"]

#: Why a hub cannot sign its audit trail, and how to make it able to.
NO_SIGNING_KEY = "no audit signing key is configured (hub.audit_key; 'officehub audit keygen PATH' makes one)"


@dataclass(frozen=True)
class SigningKey:
    """A new checkpoint-signing key: the private key's text, the public key's text and its id."""

    private_text: str
    public_text: str
    key_id: str


def entries(ctx: RunContext, *, action: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest entries (of ``action`` only, when given), newest first."""
    return audit.entries(ctx.conn, action, limit)


def append_entries(store: HubStore, entries: Sequence[audit.Entry]) -> None:
    """Append ``entries`` (of reads that kept theirs, :class:`officehub.services.session.Reading`) in one
    transaction: one wait for the chain's head and one commit for all of them."""
    if entries:
        with store.begin() as conn:
            audit.append_many(conn, entries)


def trusting(keys: AuditKeys, public_keys: Iterable[str]) -> AuditKeys:
    """``keys`` plus Ed25519 public keys given as base64 text; FatalError naming a key that is not one."""
    try:
        extra = [audit_anchor.public_key_from_text(text) for text in public_keys]
    except ValueError as exc:
        raise FatalError(f"public key: {exc}") from None
    return AuditKeys.of(keys.signer, [*keys.trusted.values(), *extra])


def verify(ctx: RunContext, keys: AuditKeys, expect_head: str | None = None) -> Verification:
    """Check the hash chain and its signed checkpoints (and that it still holds ``expect_head``)."""
    return audit.verify(ctx.conn, keys, expect_head)


def checkpoint(store: HubStore, keys: AuditKeys) -> Checkpoint | None:
    """Sign the chain's current head; None when the trail is empty. FatalError when no key is configured."""
    if keys.signer is None:
        raise FatalError(NO_SIGNING_KEY)
    with store.begin() as conn:
        return audit_anchor.checkpoint(conn, keys)


def new_signing_key() -> SigningKey:
    """A fresh Ed25519 key for signing checkpoints."""
    text, key = audit_anchor.new_signing_key()
    public = key.public_key()
    return SigningKey(text, audit_anchor.public_text(public), audit_anchor.key_id(public))
