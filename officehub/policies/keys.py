"""The key ring of pseudonymisation and tokenisation keys, by key id.

The hub resolves the secrets (env vars, files) and hands policies the bytes; a
key id travels with every pseudonym and token so a key can be rotated while
older outputs stay attributable (and, for tokens, reversible).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from officehub.canonical_model.errors import FatalError


@dataclass(frozen=True)
class KeyRing:
    """Secret keys by id, and the id new pseudonyms and tokens are made with."""

    keys: dict[str, bytes] = field(default_factory=dict)
    active: str | None = None

    def secret(self, key_id: str | None = None) -> tuple[str, bytes]:
        """(key id, secret) for ``key_id``, or the active key; FatalError naming the id only."""
        wanted = key_id or self.active
        if wanted is None or wanted not in self.keys:
            raise FatalError(f"policy key '{wanted or '(none active)'}' is not in the key ring "
                             "(hub.keys in officehub.yaml)")
        return wanted, self.keys[wanted]

    def derive(self, purpose: str, key_id: str | None = None, length: int = 32) -> tuple[str, bytes]:
        """A sub-key for one purpose (hash, tokenize), so one secret never serves two."""
        kid, secret = self.secret(key_id)
        hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=f"officehub/{purpose}".encode())
        return kid, hkdf.derive(secret)
