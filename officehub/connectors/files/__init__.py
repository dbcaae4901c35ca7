"""Local files: delimited (CSV) and fixed-width text in drop folders."""

from officehub.connectors.files.config import FilesConfig, FileStream, FixedWidthColumn
from officehub.connectors.files.connector import FilesConnector

__all__ = ["FileStream", "FilesConfig", "FilesConnector", "FixedWidthColumn"]
