"""Settings of the sftp connector: the server, how we prove who we are, how we know it is the server."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from connectors.base import ConnectorConfig
from connectors.formats import FileStream
from connectors.secrets import SecretRef

#: OpenSSH's fingerprint notation, as ``ssh-keygen -lf`` prints it.
FINGERPRINT = r"^SHA256:[A-Za-z0-9+/]{43}=?$"


class SftpConfig(ConnectorConfig):
    """An SFTP server folder holding file families (streams), as the files connector reads them."""

    type: str = "sftp"
    host: str = Field(min_length=1)
    port: int = Field(22, ge=1, le=65535)
    username: str = Field(min_length=1)
    private_key: Path | None = Field(None, description="private key file (OpenSSH or PEM)")
    passphrase: SecretRef | None = Field(None, description="the private key's passphrase, by reference")
    password: SecretRef | None = Field(None, description="the account's password, by reference")
    known_hosts: Path | None = Field(None, description="OpenSSH known_hosts file that lists the server's key")
    host_key_fingerprint: str | None = Field(None, pattern=FINGERPRINT, description="pinned key, SHA256:...")
    folder: str = Field(".", description="remote folder; relative paths start at the login directory")
    connect_timeout_s: float = Field(15, gt=0, description="TCP connect, banner and authentication")
    timeout_s: float = Field(60, gt=0, description="any single request on an open connection")
    streams: dict[str, FileStream]

    @model_validator(mode="after")
    def _one_way_each(self) -> SftpConfig:
        if (self.private_key is None) == (self.password is None):
            raise ValueError("authenticate with exactly one of 'private_key' or 'password'")
        if self.passphrase is not None and self.private_key is None:
            raise ValueError("'passphrase' unlocks a 'private_key'")
        if (self.known_hosts is None) == (self.host_key_fingerprint is None):
            raise ValueError("verify the server with exactly one of 'known_hosts' or 'host_key_fingerprint'")
        return self

    def resolve(self, path: Path, base_dir: Path) -> Path:
        """A configured path, relative to the project directory unless absolute."""
        return path if path.is_absolute() else base_dir / path
