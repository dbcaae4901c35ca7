"""The bundle: one batch of policed canonical records, compressed, encrypted for one peer, signed.

Layout (see docs/adr/0005-site-bundles.md)::

    b"OHSB" | version (1 byte) | header length (4 bytes, big-endian) | header (canonical JSON)
    | ciphertext | Ed25519 signature (64 bytes) over everything before it

The payload is an Arrow IPC stream with zstd-compressed buffers, encrypted with AES-256-GCM
under a fresh key per bundle; that key is wrapped to the recipient's X25519 key through an
ephemeral X25519 exchange and HKDF-SHA256. The header names sender, recipient, sequence
numbers, record count, ciphertext hash and schema version: nothing sensitive.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, ValidationError

from officehub.canonical_model import SCHEMA_VERSION
from officehub.sites.files import canonical_json
from officehub.sites.keys import SiteCard, SiteIdentity, b64, key_fingerprint, unb64

MAGIC = b"OHSB"
VERSION = 1
SIGNATURE_BYTES = 64
_PREFIX = struct.Struct(">4sBI")
_WRAP_INFO = b"officehub site bundle v1: key wrap"
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


class BundleRejected(ValueError):
    """A bundle that must not be applied; ``reason`` says why without quoting any content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Header(BaseModel):
    """What a bundle says about itself in the clear."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = VERSION
    sender: str
    recipient: str
    seq: int
    prev: int
    stream: str
    records: int
    schema_version: int
    batch: str
    part: int
    created_at: str
    sender_key: str
    recipient_key: str
    ephemeral_key: str
    wrapped_key: str
    nonce: str
    ciphertext_bytes: int
    ciphertext_sha256: str

    def safe_summary(self) -> dict[str, object]:
        """The fields a quarantine entry may keep: routing and counts, never content."""
        return {"bundle_sender": self.sender, "bundle_recipient": self.recipient, "bundle_seq": self.seq,
                "bundle_stream": self.stream, "bundle_records": self.records, "sender_key": self.sender_key}


def file_name(sender: str, seq: int) -> str:
    """The name of bundle ``seq`` from ``sender``: names sort in sequence order."""
    return f"{sender}-{seq:012d}.ohb"


def encode_batch(batch: pa.RecordBatch) -> bytes:
    """A batch as a zstd-compressed Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=_IPC_OPTIONS) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _context(sender: str, recipient: str, seq: int) -> bytes:
    # Bound into both AEAD operations: a ciphertext cannot be moved to another link or position.
    return f"officehub-bundle\x1f{sender}\x1f{recipient}\x1f{seq}".encode()


def _kek(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral + recipient, info=_WRAP_INFO).derive(shared)


@dataclass(frozen=True)
class Route:
    """Where a bundle sits in its link: sequence, previous bundle of its stream, publish batch and part."""

    seq: int
    prev: int
    stream: str
    batch: str
    part: int


def seal(me: SiteIdentity, peer: SiteCard, route: Route, payload: bytes, records: int) -> bytes:
    """Encrypt ``payload`` (encoded batch) for ``peer`` and sign the whole bundle."""
    key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    context = _context(me.name, peer.site, route.seq)
    ciphertext = AESGCM(key).encrypt(nonce, payload, context)
    ephemeral = X25519PrivateKey.generate()
    eph_raw = ephemeral.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    rec_raw = unb64(peer.encryption_key)
    kek = _kek(ephemeral.exchange(peer.recipient()), eph_raw, rec_raw)
    # The KEK is unique to this bundle (fresh ephemeral key), so a fixed nonce is safe here.
    wrapped = AESGCM(kek).encrypt(bytes(12), key, context)
    header = Header(sender=me.name, recipient=peer.site, seq=route.seq, prev=route.prev, stream=route.stream,
                    records=records, schema_version=SCHEMA_VERSION, batch=route.batch, part=route.part,
                    created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    sender_key=me.card.signing_fingerprint, recipient_key=peer.encryption_fingerprint,
                    ephemeral_key=b64(eph_raw), wrapped_key=b64(wrapped), nonce=b64(nonce),
                    ciphertext_bytes=len(ciphertext), ciphertext_sha256=hashlib.sha256(ciphertext).hexdigest())
    head = canonical_json(header.model_dump())
    body = _PREFIX.pack(MAGIC, VERSION, len(head)) + head + ciphertext
    return body + me.signing.sign(body)


def read_header(data: bytes) -> Header:
    """The header, unverified (for routing only); BundleRejected if it cannot be parsed."""
    if len(data) < _PREFIX.size + SIGNATURE_BYTES:
        raise BundleRejected("truncated: shorter than an empty bundle")
    magic, version, length = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise BundleRejected("not an officehub bundle (bad magic)")
    if version != VERSION:
        raise BundleRejected(f"bundle format version {version} is not supported (this hub reads {VERSION})")
    if _PREFIX.size + length + SIGNATURE_BYTES > len(data):
        raise BundleRejected("truncated: header runs past the end")
    try:
        return Header.model_validate(json.loads(data[_PREFIX.size:_PREFIX.size + length]))
    except (ValueError, ValidationError, RecursionError):  # RecursionError: JSON nested past what Python decodes
        raise BundleRejected("header is not valid (corrupted)") from None


@dataclass(frozen=True)
class OpenedBundle:
    """A verified bundle's header and decrypted records."""

    header: Header
    batch: pa.RecordBatch


def verify(data: bytes, sender: SiteCard, revoked: list[str]) -> Header:
    """The header of a bundle whose hash and signature check out against ``sender``; else BundleRejected."""
    header = read_header(data)
    if header.sender_key != sender.signing_fingerprint:
        raise BundleRejected("signed by a revoked key" if header.sender_key in revoked
                             else "signed by an unknown key")
    start = len(data) - SIGNATURE_BYTES - header.ciphertext_bytes
    body, signature = data[:-SIGNATURE_BYTES], data[-SIGNATURE_BYTES:]
    if start != _PREFIX.size + _PREFIX.unpack_from(data)[2]:
        raise BundleRejected("length does not match the header (truncated or padded)")
    if hashlib.sha256(data[start:-SIGNATURE_BYTES]).hexdigest() != header.ciphertext_sha256:
        raise BundleRejected("content hash does not match (corrupted in transit or at rest)")
    try:
        sender.verifier().verify(signature, body)
    except InvalidSignature:
        raise BundleRejected("signature does not verify (tampered with, or corrupted)") from None
    return header


def open_bundle(data: bytes, me: SiteIdentity, sender: SiteCard, revoked: list[str]) -> OpenedBundle:
    """Verify, then decrypt a bundle addressed to ``me``; BundleRejected says why not."""
    header = verify(data, sender, revoked)
    if header.recipient != me.name or header.sender != sender.site:
        raise BundleRejected(f"addressed from '{header.sender}' to '{header.recipient}', not on this link")
    if header.recipient_key != me.card.encryption_fingerprint:
        raise BundleRejected("encrypted for another key of this site")
    context = _context(header.sender, header.recipient, header.seq)
    try:
        eph = unb64(header.ephemeral_key)
        kek = _kek(me.encryption.exchange(X25519PublicKey.from_public_bytes(eph)), eph,
                   unb64(me.card.encryption_key))
        key = AESGCM(kek).decrypt(bytes(12), unb64(header.wrapped_key), context)
        ciphertext = data[len(data) - SIGNATURE_BYTES - header.ciphertext_bytes:-SIGNATURE_BYTES]
        payload = AESGCM(key).decrypt(unb64(header.nonce), ciphertext, context)
    except (InvalidTag, ValueError):
        raise BundleRejected("cannot be decrypted with this site's key") from None
    try:
        table = pa.ipc.open_stream(payload).read_all()
    except (pa.ArrowInvalid, OSError):
        raise BundleRejected("payload is not a readable record batch") from None
    if table.num_rows != header.records:
        raise BundleRejected(f"holds {table.num_rows} records, header says {header.records}")
    return OpenedBundle(header, table.combine_chunks().to_batches()[0] if table.num_rows else
                        pa.RecordBatch.from_pylist([], table.schema))


__all__ = ["BundleRejected", "Header", "OpenedBundle", "Route", "encode_batch", "file_name", "key_fingerprint",
           "open_bundle", "read_header", "seal", "verify"]
