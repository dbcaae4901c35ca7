"""SFTP: the files connector's streams (CSV, JSON Lines, fixed-width) on a remote server, via paramiko."""

from typing import Any

from officehub.connectors.sftp.config import SftpConfig


def __getattr__(name: str) -> Any:
    # The connector (and paramiko, the sftp extra) loads only when it is used: its settings
    # are needed by configurations that merely mention an SFTP server (a peer site's inbox).
    if name == "SftpConnector":
        from officehub.connectors.sftp.connector import SftpConnector

        return SftpConnector
    raise AttributeError(name)


__all__ = ["SftpConfig", "SftpConnector"]
