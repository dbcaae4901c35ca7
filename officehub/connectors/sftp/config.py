"""Settings of the sftp connector: the server, how we prove who we are, how we know it is the server."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import ConfigDict, Field, field_validator, model_validator

from officehub.connectors.base import ConnectorConfig
from officehub.connectors.file_mode import FileMode, permission_bits
from officehub.connectors.formats import FileStream
from officehub.connectors.secrets import SecretRef

#: OpenSSH's fingerprint notation, as ``ssh-keygen -lf`` prints it.
FINGERPRINT = r"^SHA256:[A-Za-z0-9+/]{43}=?$"
_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
#: Permission bits as an octal string: "640" or "0640" (no setuid, setgid or sticky bits).


def _is_bare_host(host: str) -> bool:
    """A host name or an IP address, and nothing else (no scheme, user, password, port or path)."""
    if _HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


class SftpConfig(ConnectorConfig):
    """An SFTP server folder holding file families (streams), as the files connector reads them."""

    # A refused host or user name may hold a password: pydantic's own error text must not quote it.
    model_config = ConfigDict(hide_input_in_errors=True)

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
    file_mode: FileMode = Field(None, description="permissions of written files, octal (\"0640\"); "
                                                    "default: what the server's umask allows")
    streams: dict[str, FileStream]

    @property
    def mode(self) -> int | None:
        """``file_mode`` as permission bits, or None to leave them to the server's umask."""
        return permission_bits(self.file_mode)

    @field_validator("host")
    @classmethod
    def _bare_host(cls, host: str) -> str:
        if not _is_bare_host(host):
            # "user:pw@server" or "sftp://…" would carry a credential where logs and errors show it.
            raise ValueError("host must be a host name or IP address only (no scheme, user, password, port or "
                             "path); set 'port' and 'username', and give the password by reference")
        return host

    @field_validator("username")
    @classmethod
    def _no_password_in_username(cls, username: str) -> str:
        if ":" in username:
            raise ValueError("username must not hold a password (':'); give it by reference under 'password'")
        return username

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
