"""Settings of the local-files connector: a folder and its file families (streams)."""

from __future__ import annotations

from pathlib import Path

from connectors.base import ConnectorConfig
from connectors.formats import FileStream, FixedWidthColumn

__all__ = ["FileStream", "FilesConfig", "FixedWidthColumn"]


class FilesConfig(ConnectorConfig):
    """A local (or mounted) folder: drop folders, exports, legacy flat files."""

    type: str = "files"
    path: Path
    streams: dict[str, FileStream]
