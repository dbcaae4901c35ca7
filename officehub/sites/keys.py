"""A site's identity: an Ed25519 signing key and an X25519 encryption key, encrypted at rest.

The private keys are PKCS#8 PEM files encrypted with the site passphrase (cryptography's
best available encryption); the public halves travel to peers as a "site card" (JSON),
checked out of band by its fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from officehub.canonical_model.errors import FatalError
from officehub.sites.files import read_json, write_atomic, write_json
from officehub.sites.settings import SitePaths

_RAW = {"encoding": ser.Encoding.Raw, "format": ser.PublicFormat.Raw}


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    """Bytes of standard base64 text; ValueError if it is not."""
    return base64.b64decode(text.encode(), validate=True)


def key_fingerprint(public_raw: bytes) -> str:
    """``SHA256:…`` of one raw public key, in OpenSSH's notation."""
    return "SHA256:" + b64(hashlib.sha256(public_raw).digest()).rstrip("=")


#: A site's name: lower case, as in Celery queue and folder names.
SITE_NAME = r"^[a-z][a-z0-9_-]*$"


class SiteCard(BaseModel):
    """The public half of a site's identity, as handed to peers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str = Field(pattern=SITE_NAME)
    signing_key: str = Field(description="Ed25519 public key, base64")
    encryption_key: str = Field(description="X25519 public key, base64")
    created_at: str

    @property
    def fingerprint(self) -> str:
        """What two operators compare out of band: a hash over both public keys."""
        return "SHA256:" + b64(hashlib.sha256(unb64(self.signing_key) + unb64(self.encryption_key)).digest()).rstrip("=")

    @property
    def signing_fingerprint(self) -> str:
        """The fingerprint of the signing key alone, as bundle headers name it."""
        return key_fingerprint(unb64(self.signing_key))

    @property
    def encryption_fingerprint(self) -> str:
        """The fingerprint of the encryption key alone, as bundle headers name it."""
        return key_fingerprint(unb64(self.encryption_key))

    def verifier(self) -> Ed25519PublicKey:
        """The signing key, to verify signatures with."""
        return Ed25519PublicKey.from_public_bytes(unb64(self.signing_key))

    def recipient(self) -> X25519PublicKey:
        """The encryption key, to wrap bundle keys to."""
        return X25519PublicKey.from_public_bytes(unb64(self.encryption_key))


@dataclass(frozen=True)
class SiteIdentity:
    """This site's name and unlocked private keys (kept in memory only)."""

    card: SiteCard
    signing: Ed25519PrivateKey
    encryption: X25519PrivateKey

    @property
    def name(self) -> str:
        """The site's name."""
        return self.card.site


def init_site(paths: SitePaths, name: str, passphrase: bytes) -> SiteCard:
    """Create the site's keys; FatalError if the site folder already has an identity."""
    if (paths.identity / "site.json").exists():
        raise FatalError(f"site folder {paths.root} already holds the identity of site "
                         f"'{public_card(paths).site}'; refusing to replace its keys")
    if len(passphrase) < 12:
        raise FatalError("the site passphrase must be at least 12 characters long")
    if not re.fullmatch(SITE_NAME, name):
        raise FatalError(f"site name '{name}' must be lower case: a letter, then letters, digits, '-' or '_'")
    signing, encryption = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    card = SiteCard(site=name, signing_key=b64(signing.public_key().public_bytes(**_RAW)),
                    encryption_key=b64(encryption.public_key().public_bytes(**_RAW)),
                    created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    crypt = ser.BestAvailableEncryption(passphrase)
    for file, key in (("signing.pem", signing), ("encryption.pem", encryption)):
        pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, crypt)
        write_atomic(paths.identity / file, pem, mode=0o600)
    write_json(paths.identity / "site.json", card.model_dump())
    return card


def public_card(paths: SitePaths) -> SiteCard:
    """This site's public card; FatalError if ``site init`` has not run here."""
    data = read_json(paths.identity / "site.json")
    if data is None:
        raise FatalError(f"no site identity in {paths.root} (run 'officehub site init NAME' first)")
    return SiteCard.model_validate(data)


def load_identity(paths: SitePaths, passphrase: bytes) -> SiteIdentity:
    """The site's identity with its private keys unlocked; FatalError on a wrong passphrase."""
    card = public_card(paths)
    keys = [_private(paths.identity / file, passphrase, card.site) for file in ("signing.pem", "encryption.pem")]
    signing, encryption = keys
    if not isinstance(signing, Ed25519PrivateKey) or not isinstance(encryption, X25519PrivateKey):
        raise FatalError(f"site '{card.site}': key files in {paths.identity} are not the expected key types")
    if b64(signing.public_key().public_bytes(**_RAW)) != card.signing_key:
        raise FatalError(f"site '{card.site}': signing.pem does not match site.json")
    return SiteIdentity(card, signing, encryption)


def _private(path: Path, passphrase: bytes, site: str) -> object:
    try:
        return ser.load_pem_private_key(path.read_bytes(), passphrase)
    except OSError as exc:
        raise FatalError(f"site '{site}': cannot read key file {path} ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise FatalError(f"site '{site}': cannot unlock {path.name} (wrong site passphrase?)") from None
