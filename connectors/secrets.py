"""Secrets by reference: a connector's config names an env var or a file, never the value."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from canonical_model.errors import FatalError


class SecretRef(BaseModel):
    """Where a secret lives: ``{env: NAME}`` or ``{file: PATH}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference names exactly one of 'env' or 'file'")
        return self

    def resolve(self, base_dir: Path) -> SecretStr:
        """The secret's value; FatalError naming the reference (not the value) if missing."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise FatalError(f"environment variable {self.env} is not set")
            return SecretStr(value)
        path = self.file if self.file.is_absolute() else base_dir / self.file
        try:
            return SecretStr(path.read_text(encoding="utf-8").rstrip("\r\n"))
        except OSError as exc:
            raise FatalError(f"cannot read secret file {path}: {exc.strerror}") from None
