"""Opening an SFTP session: verify the server's host key (never trust a new one), then authenticate.

Every failure becomes one of the shared errors: a key that is unknown, changed
or not the pinned one, a refused login or an unreadable key file is fatal
(retrying cannot fix it); a refused, dropped or timed-out connection is retriable.
Messages name the host, user and files — never a password, passphrase or file content.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.connectors.sftp.config import SftpConfig

#: What a broken or unreachable connection raises somewhere in paramiko or the socket layer.
CONNECTION_ERRORS = (OSError, EOFError, paramiko.SSHException)


class HostKeyRejected(paramiko.SSHException):
    """The server offered a host key we have no reason to trust."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _describe(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


class RejectUnknownKey(paramiko.MissingHostKeyPolicy):
    """A server that is not in known_hosts is refused, never added."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        """Refuse: an unknown key is verified by a person, then added to known_hosts by them."""
        raise HostKeyRejected(f"host key of {hostname} ({_describe(key)}) is not in known_hosts; verify it "
                              "with the server's administrator before adding it")


class PinnedKeyOnly(paramiko.MissingHostKeyPolicy):
    """Only the host key with the configured SHA256 fingerprint is accepted."""

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint.rstrip("=")

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        """Accept the pinned key, refuse any other."""
        if key.fingerprint != self.fingerprint:
            raise HostKeyRejected(f"host key of {hostname} ({_describe(key)}) does not match the pinned "
                                  "host_key_fingerprint: the server's key changed, or this is not the server")


@dataclass
class Session:
    """An authenticated SSH connection and its SFTP channel."""

    client: paramiko.SSHClient
    sftp: paramiko.SFTPClient

    def alive(self) -> bool:
        """Whether the server still answers (a restarted server drops its connections)."""
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            return False
        try:
            self.sftp.stat(".")
        except CONNECTION_ERRORS:
            return False
        return True

    def close(self) -> None:
        """Close the channel and the connection; a dead one closes quietly."""
        with suppress(*CONNECTION_ERRORS):
            self.sftp.close()
        self.client.close()


def connect(config: SftpConfig, base_dir: Path, system: str) -> Session:
    """A verified, authenticated session; FatalError or RetriableError as described above."""
    client = paramiko.SSHClient()
    try:
        _trust(client, config, base_dir, system)
        credentials = _credentials(config, base_dir, system)
        with translated(system):
            _login(client, config, credentials, system)
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(config.timeout_s)
        return Session(client, sftp)
    except BaseException:
        client.close()
        raise


def _trust(client: paramiko.SSHClient, config: SftpConfig, base_dir: Path, system: str) -> None:
    if config.host_key_fingerprint:
        client.set_missing_host_key_policy(PinnedKeyOnly(config.host_key_fingerprint))
        return
    path = config.resolve(config.known_hosts, base_dir)
    try:
        # "system" host keys are only read, never saved back: a new key is never written for us.
        client.load_system_host_keys(str(path))
    except (OSError, paramiko.SSHException) as exc:
        raise FatalError(f"cannot read known_hosts file {path} ({type(exc).__name__})", system=system) from None
    client.set_missing_host_key_policy(RejectUnknownKey())


def _credentials(config: SftpConfig, base_dir: Path, system: str) -> dict[str, Any]:
    if config.password is not None:
        return {"password": config.password.resolve(base_dir).get_secret_value()}
    path = config.resolve(config.private_key, base_dir)
    secret = config.passphrase.resolve(base_dir).get_secret_value().encode() if config.passphrase else None
    try:
        return {"pkey": paramiko.PKey.from_path(path, secret)}
    except OSError as exc:
        raise FatalError(f"cannot read private key file {path} ({exc.strerror})", system=system) from None
    except TypeError:
        raise FatalError(f"private key file {path} is encrypted: set 'passphrase'", system=system) from None
    except (ValueError, paramiko.SSHException):
        raise FatalError(f"cannot load private key file {path} (wrong passphrase, or not a private key)",
                         system=system) from None


def _login(client: paramiko.SSHClient, config: SftpConfig, credentials: dict[str, Any], system: str) -> None:
    try:
        client.connect(config.host, config.port, username=config.username, **credentials,
                       timeout=config.connect_timeout_s, banner_timeout=config.connect_timeout_s,
                       auth_timeout=config.connect_timeout_s, channel_timeout=config.timeout_s,
                       allow_agent=False, look_for_keys=False)
    except paramiko.AuthenticationException:
        how = "password" if "password" in credentials else "private key"
        raise FatalError(f"the server refused user '{config.username}' with this {how}", system=system) from None


@contextmanager
def translated(system: str, stream: str | None = None) -> Iterator[None]:
    """Turn paramiko's and the socket layer's exceptions into FatalError or RetriableError."""
    try:
        yield
    except OfficehubError:
        raise
    except HostKeyRejected as exc:
        raise FatalError(exc.reason, system=system) from None
    except paramiko.BadHostKeyException as exc:
        raise FatalError(f"host key of {exc.hostname} CHANGED: known_hosts has {_describe(exc.expected_key)}, the "
                         f"server offers {_describe(exc.key)}; refusing to connect (verify with its administrator)",
                         system=system) from None
    except PermissionError:
        raise FatalError("permission denied on the server", system=system, stream=stream) from None
    except FileNotFoundError:
        # Listed a moment ago, gone now: the sender is moving files; the next run lists the folder again.
        raise RetriableError("a remote file disappeared while being read; the next run tries again",
                             system=system, stream=stream) from None
    except CONNECTION_ERRORS as exc:
        raise RetriableError(f"SFTP connection failed ({type(exc).__name__}); the next run tries again",
                             system=system, stream=stream) from None
