"""Text file formats shared by the files and sftp connectors: CSV, JSON Lines, fixed-width.

Files are parsed line by line from a binary handle, so memory stays flat in the
file's size and one undecodable or unparsable line is rejected on its own.
"""

from officehub.connectors.formats.dispatch import parse, render, stream_fields
from officehub.connectors.formats.incremental import Fetched, SourceFile, Where, read_files
from officehub.connectors.formats.spec import FileStream, FixedWidthColumn
from officehub.connectors.formats.text import FormatProblem, Parsed, Row

__all__ = [
    "Fetched", "FileStream", "FixedWidthColumn", "FormatProblem", "Parsed", "Row", "SourceFile", "Where",
    "parse", "read_files", "render", "stream_fields",
]
