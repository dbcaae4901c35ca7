"""``hash`` (one-way pseudonym) and ``tokenize`` (reversible token), both keyed.

Both are deterministic for a given key: the same value always yields the same
output, so records still join across runs and systems, and re-sending a batch
after a crash produces identical output.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from pydantic import BaseModel, ConfigDict, Field

from officehub.canonical_model.errors import FatalError
from officehub.policies.keys import KeyRing
from officehub.policies.operators.base import Operator

TOKEN_PREFIX = "tok"


def _per_distinct(column: pa.Array, function: Callable[[str], str]) -> pa.Array:
    """Apply a Python ``function`` once per distinct value (the loop Arrow cannot do for us)."""
    text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
    distinct = pc.unique(text.drop_null())
    outputs = pa.array([function(v) for v in distinct.to_pylist()], pa.string())
    return pc.take(outputs, pc.index_in(text, value_set=distinct))


class Hash(Operator):
    """Keyed HMAC-SHA256 pseudonym ``<key id>:<hex>``: stable, one-way, joinable."""

    name, strictness = "hash", 50

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        key: str | None = Field(None, description="key id; default: the key ring's active key")
        length: int = Field(32, ge=16, le=64, description="hex characters kept")

    params: Params

    def apply(self, column: pa.Array) -> pa.Array:
        key_id, secret = self.context.keys.derive("hash", self.params.key)

        def pseudonym(value: str) -> str:
            digest = hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
            return f"{key_id}:{digest[:self.params.length]}"
        return _per_distinct(column, pseudonym)


class Tokenize(Operator):
    """Deterministic authenticated encryption (AES-SIV): ``tok:<key id>:<token>``, reversible with the key."""

    name, strictness = "tokenize", 40

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        key: str | None = Field(None, description="key id; default: the key ring's active key")

    params: Params

    def apply(self, column: pa.Array) -> pa.Array:
        key_id, key = self.context.keys.derive("tokenize", self.params.key, length=64)
        cipher = AESSIV(key)
        # The field path is bound in as associated data: a token moved to another field will not decrypt.
        field = self.context.path.encode("utf-8")

        def token(value: str) -> str:
            sealed = cipher.encrypt(value.encode("utf-8"), [field])
            return f"{TOKEN_PREFIX}:{key_id}:{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"
        return _per_distinct(column, token)


def detokenize(token: str, path: str, keys: KeyRing) -> str:
    """The original value of a token made for field ``path``; FatalError if it does not verify."""
    try:
        prefix, key_id, body = token.split(":", 2)
    except ValueError:
        raise FatalError("not a token (expected tok:<key id>:<token>)") from None
    if prefix != TOKEN_PREFIX:
        raise FatalError("not a token (expected tok:<key id>:<token>)")
    _, key = keys.derive("tokenize", key_id, length=64)
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AESSIV(key).decrypt(sealed, [path.encode("utf-8")]).decode("utf-8")
    except (InvalidTag, ValueError):
        raise FatalError(f"the token does not verify for field '{path}' with key '{key_id}'") from None
