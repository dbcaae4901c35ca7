"""Anchoring the audit chain: signed checkpoints of its head.

A hash chain alone shows that no entry was edited, removed or reordered in the middle,
but not that the newest entries were cut off, nor that the whole chain was rebuilt with
recomputed hashes. A checkpoint records the head entry, how many entries the chain held
and the head hash, signed with an Ed25519 key kept outside the hub store; someone who can
write to the store cannot make a checkpoint that verifies. Verifying needs only the
public key (docs/adr/0010).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.lazy import LazyModule
from officehub.store.schema import TABLES

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
else:  # imported when a key is read, made or used: most commands never sign or verify
    ser = LazyModule("cryptography.hazmat.primitives.serialization")
    ed25519 = LazyModule("cryptography.hazmat.primitives.asymmetric.ed25519")
#: Signed before the fields, so a checkpoint signature means nothing in any other protocol.
_DOMAIN = b"officehub audit checkpoint v1\n"


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)


def public_text(key: Ed25519PublicKey) -> str:
    """A public key as one line of base64 (what ``hub.audit_verify_keys`` lists)."""
    return base64.b64encode(_raw_public(key)).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """The key's fingerprint, ``SHA256:…`` in OpenSSH's notation."""
    digest = hashlib.sha256(_raw_public(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def new_signing_key() -> tuple[str, Ed25519PrivateKey]:
    """A fresh key: its one-line base64 text (to store as a secret) and the key."""
    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption())
    return base64.b64encode(raw).decode(), key


def signing_key_from_text(text: str, where: str) -> Ed25519PrivateKey:
    """A private key from base64 of its 32 raw bytes or a PEM; FatalError naming ``where``, never the text."""
    try:
        if text.lstrip().startswith("-----BEGIN"):
            key = ser.load_pem_private_key(text.encode(), password=None)
        else:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip(), validate=True))
    except (ValueError, TypeError, binascii.Error):
        key = None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise FatalError(f"{where}: not an Ed25519 private key (base64 of 32 bytes, or an unencrypted PEM)")
    return key


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key from base64 of its 32 raw bytes; ValueError if it is not one."""
    try:
        return ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except (ValueError, binascii.Error):
        raise ValueError("not an Ed25519 public key (base64 of 32 bytes)") from None


@dataclass(frozen=True)
class AuditKeys:
    """The key that signs checkpoints (if this hub holds it) and the public keys that verify them."""

    signer: Ed25519PrivateKey | None = None
    trusted: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)

    @classmethod
    def of(cls, signer: Ed25519PrivateKey | None, verify_keys: Iterable[Ed25519PublicKey] = ()) -> AuditKeys:
        """The signer's own public key is trusted too, besides ``verify_keys``."""
        publics = [*verify_keys, *([signer.public_key()] if signer else [])]
        return cls(signer, {key_id(k): k for k in publics})


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement: "entry ``entry_id`` was the head, the chain held ``entries`` entries"."""

    id: int
    entry_id: int
    entries: int
    head: str
    key_id: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for JSON output."""
        return {"id": self.id, "entry_id": self.entry_id, "entries": self.entries, "head": self.head,
                "key_id": self.key_id, "at": self.at.isoformat()}


def _utc(at: datetime) -> datetime:
    # Some databases hand back naive times; every time the hub writes is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _message(entry_id: int, entries: int, head: str, kid: str, at: datetime) -> bytes:
    body = {"entry_id": entry_id, "entries": entries, "head": head, "key_id": kid, "at": _utc(at).isoformat()}
    return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _head(conn: sa.Connection) -> tuple[int, int, str] | None:
    """(entry id, entry count, hash) of the chain's newest entry, or None for an empty chain."""
    audit = TABLES["audit"]
    newest = conn.execute(sa.select(audit.c.id, audit.c.hash).order_by(audit.c.id.desc()).limit(1)).first()
    if newest is None:
        return None
    count = conn.execute(sa.select(sa.func.count()).select_from(audit)).scalar_one()
    return newest.id, count, newest.hash


def last_checkpoint(conn: sa.Connection) -> Checkpoint | None:
    """The newest checkpoint as stored (not verified)."""
    table = TABLES["audit_checkpoint"]
    row = conn.execute(sa.select(table).order_by(table.c.id.desc()).limit(1)).first()
    return None if row is None else Checkpoint(row.id, row.entry_id, row.entries, row.head, row.key_id, _utc(row.at))


def checkpoint(conn: sa.Connection, keys: AuditKeys) -> Checkpoint | None:
    """Sign the chain's current head, unless there is no signing key, no entry, or it is signed already."""
    head = _head(conn)
    if keys.signer is None or head is None:
        return None
    entry_id, entries, digest = head
    last = last_checkpoint(conn)
    if last is not None and (last.entry_id, last.entries, last.head) == head:
        return last
    kid = key_id(keys.signer.public_key())
    at = datetime.now(UTC).replace(microsecond=0)  # whole seconds: every database keeps them exactly
    signature = keys.signer.sign(_message(entry_id, entries, digest, kid, at))
    new_id = conn.execute(sa.insert(TABLES["audit_checkpoint"]).values(
        entry_id=entry_id, entries=entries, head=digest, key_id=kid, at=at,
        signature=base64.b64encode(signature).decode())).inserted_primary_key[0]
    return Checkpoint(new_id, entry_id, entries, digest, kid, at)


def signed_checkpoints(conn: sa.Connection, keys: AuditKeys) -> tuple[list[Checkpoint], str | None]:
    """Every checkpoint, oldest first, each checked against the trusted keys.

    Returns the checkpoints that verified before the first problem, and that problem (a
    malformed row, an unknown key, a signature that does not verify), which makes the
    whole trail fail verification.
    """
    found = []
    # Read as the database returns them: a row edited into nonsense is a finding, not a crash.
    table = TABLES["audit_checkpoint"]
    raw = [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in table.c]
    for row in conn.execute(sa.select(*raw).order_by(table.c.id)):
        item, problem = _checked(row, keys)
        if problem:
            return found, f"checkpoint {row.id}: {problem}"
        found.append(item)
    return found, None


def _checked(row: Any, keys: AuditKeys) -> tuple[Checkpoint | None, str | None]:
    try:
        at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(row.at)
        item = Checkpoint(int(row.id), int(row.entry_id), int(row.entries), str(row.head), str(row.key_id), _utc(at))
        signature = base64.b64decode(row.signature, validate=True)
    except (TypeError, ValueError, binascii.Error):
        return None, "malformed (a field is missing or unreadable)"
    public = keys.trusted.get(item.key_id)
    if public is None:
        return None, f"signed by a key this hub does not trust ({item.key_id})"
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(signature, _message(item.entry_id, item.entries, item.head, item.key_id, item.at))
    except InvalidSignature:
        return None, "its signature does not verify (forged or edited)"
    return item, None
