"""Fuzz target for site bundle headers: a received bundle file, read as the inbox reads it.

The inbox reads the header of every bundle unverified (to route it), then verifies and
opens the ones of its chain. A fuzzer cannot forge an Ed25519 signature, so the target
signs each input with the sender's key before verifying it: the header, the lengths, the
key fields and the decryption are all reached, as with a bundle from a peer whose key leaked.
The keys are fixed (derived from constant seeds) so that the seed bundles stay valid.
"""

from __future__ import annotations

import hashlib
import json
import struct

import pyarrow as pa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from officehub.sites.bundle import SIGNATURE_BYTES, BundleRejected, Route, encode_batch, open_bundle, read_header, seal
from officehub.sites.keys import SiteCard, SiteIdentity, b64
from tests.fuzz.outcomes import check_text

_PREFIX = struct.Struct(">4sBI")


def identity(site: str) -> SiteIdentity:
    """A site's identity from keys derived from its name: the same on every run."""
    signing = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"sign {site}".encode()).digest())
    encryption = X25519PrivateKey.from_private_bytes(hashlib.sha256(f"encrypt {site}".encode()).digest())
    card = SiteCard(site=site, signing_key=b64(signing.public_key().public_bytes_raw()),
                    encryption_key=b64(encryption.public_key().public_bytes_raw()),
                    created_at="2026-01-01T00:00:00+00:00")
    return SiteIdentity(card, signing, encryption)


SENDER, RECIPIENT = identity("hq"), identity("branch")


def seed_bundle(seq: int, rows: list[dict]) -> bytes:
    """A real bundle from the sender to the recipient, without its signature (the target signs)."""
    batch = pa.RecordBatch.from_pylist(rows)
    sealed = seal(SENDER, RECIPIENT.card, Route(seq, seq - 1, "employee", f"b{seq}", 0), encode_batch(batch),
                  len(rows))
    return sealed[:-SIGNATURE_BYTES]


def _routing_names(data: bytes) -> list[str]:
    """The header's routing names (sites, stream), which a reason may name."""
    try:
        (_, _, length), header = _PREFIX.unpack_from(data), None
        header = json.loads(data[_PREFIX.size:_PREFIX.size + length])
        return [str(header.get(k, "")) for k in ("sender", "recipient", "stream")]
    except Exception:  # noqa: BLE001 - any input: only names that parse are excused
        return []


def site_bundle(data: bytes) -> None:
    """Route ``data`` by its header, then verify and open it signed; a finding raises."""
    names = lambda: _routing_names(data)  # noqa: E731 - computed only when the marker shows
    signed = data + SENDER.signing.sign(data)
    try:
        read_header(signed)
    except BundleRejected as exc:  # the inbox quarantines the bundle with this reason
        check_text("a bundle's reject reason", exc.reason, names)
    try:
        opened = open_bundle(signed, RECIPIENT, SENDER.card, [])
    except BundleRejected as exc:
        check_text("a bundle's reject reason", exc.reason, names)
        return
    assert opened.batch.num_rows == opened.header.records
