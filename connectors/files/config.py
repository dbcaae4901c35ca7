"""Settings of the local-files connector: a folder and its file families (streams)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from connectors.base import ConnectorConfig
from connectors.formats import FileStream, FixedWidthColumn

__all__ = ["FileStream", "FilesConfig", "FixedWidthColumn"]

_OCTAL_MODE = re.compile(r"0?[0-7]{3}")


class FilesConfig(ConnectorConfig):
    """A local (or mounted) folder: drop folders, exports, legacy flat files."""

    type: str = "files"
    path: Path
    streams: dict[str, FileStream]
    create: bool = Field(False, description="make the folder at the first write if it does not exist")
    file_mode: str | None = Field(None, description="permissions of written files, octal (\"0640\"); "
                                                    "default: what the umask allows")
    follow_symlinks: bool = Field(False, description="read files reached through symbolic links")

    @field_validator("file_mode", mode="before")
    @classmethod
    def _octal(cls, value: object) -> object:
        # Unquoted, YAML reads 0640 as the number 416: only a string says the digits are octal.
        if value is not None and not (isinstance(value, str) and _OCTAL_MODE.fullmatch(value)):
            raise ValueError("'file_mode' is an octal permission string such as \"0640\"")
        return value

    @property
    def mode(self) -> int | None:
        """``file_mode`` as permission bits, or None to leave them to the umask."""
        return None if self.file_mode is None else int(self.file_mode, 8)
