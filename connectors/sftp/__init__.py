"""SFTP: the files connector's streams (CSV, JSON Lines, fixed-width) on a remote server, via paramiko."""

from connectors.sftp.config import SftpConfig
from connectors.sftp.connector import SftpConnector

__all__ = ["SftpConfig", "SftpConnector"]
