"""Settings of the local-files connector: a folder and its file families (streams)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from officehub.connectors.base import ConnectorConfig
from officehub.connectors.file_mode import FileMode, permission_bits
from officehub.connectors.formats import FileStream, FixedWidthColumn

__all__ = ["FileStream", "FilesConfig", "FixedWidthColumn"]



class FilesConfig(ConnectorConfig):
    """A local (or mounted) folder: drop folders, exports, legacy flat files."""

    type: str = "files"
    path: Path
    streams: dict[str, FileStream]
    create: bool = Field(False, description="make the folder at the first write if it does not exist")
    file_mode: FileMode = Field(None, description="permissions of written files, octal (\"0640\"); "
                                                    "default: what the umask allows")
    follow_symlinks: bool = Field(False, description="read files reached through symbolic links")

    @property
    def mode(self) -> int | None:
        """``file_mode`` as permission bits, or None to leave them to the umask."""
        return permission_bits(self.file_mode)
