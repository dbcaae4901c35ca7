"""How a family of text files is laid out: the stream spec shared by the files and sftp connectors."""

from __future__ import annotations

import codecs
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: A decimal format is an example of the notation: ``0.00``, ``0,000`` or ``0`` (no decimals).
DECIMAL_FORMAT = re.compile(r"^0(?:([.,])(0+))?$")
_EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "fixed_width": "txt"}


class FixedWidthColumn(BaseModel):
    """One column of a fixed-width layout (0-based character offset) and how to read its text."""

    model_config = ConfigDict(extra="forbid")

    name: str
    start: int = Field(ge=0)
    length: int = Field(gt=0)
    align: Literal["left", "right"] = "left"
    type: Literal["string", "int", "decimal", "date"] = "string"
    format: str | None = Field(None, description="date: strftime pattern (%Y%m%d); decimal: 0.00 or 0,00")

    @model_validator(mode="after")
    def _format_fits_type(self) -> FixedWidthColumn:
        if self.format is None:
            return self
        if self.type in ("string", "int"):
            raise ValueError(f"column {self.name}: 'format' applies to date and decimal columns only")
        if self.type == "decimal" and not DECIMAL_FORMAT.match(self.format):
            raise ValueError(f"column {self.name}: a decimal format looks like 0.00 or 0,00")
        if self.type == "date" and "%" not in self.format:
            raise ValueError(f"column {self.name}: a date format is a strftime pattern such as %Y%m%d")
        return self

    @property
    def end(self) -> int:
        """The offset just after the column."""
        return self.start + self.length


class FileStream(BaseModel):
    """A family of files that together form one stream, and their text format."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description="glob of files to read, e.g. ITEMS_*.TXT")
    format: Literal["csv", "jsonl", "fixed_width"] = "csv"
    encoding: str = "utf-8"
    delimiter: str = Field(",", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    header: bool = Field(True, description="csv: the first line names the columns")
    columns: list[str] | None = Field(None, description="csv without a header row: the column names")
    newline: Literal["\n", "\r\n"] = "\n"
    layout: list[FixedWidthColumn] | None = None
    write_name: str | None = Field(None, description="file name for each written batch; must contain {batch_id}")

    @field_validator("encoding")
    @classmethod
    def _known_ascii_compatible(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding '{value}'") from None
        # Lines are split on the byte b"\n", which only works for ASCII-compatible encodings.
        if "\r\n;,".encode(value) != b"\r\n;,":
            raise ValueError(f"encoding '{value}' is not ASCII-compatible (utf-16/utf-32 are not supported)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FileStream:
        if self.format == "fixed_width" and not self.layout:
            raise ValueError("a fixed_width stream needs a 'layout'")
        if self.format != "fixed_width" and self.layout:
            raise ValueError("'layout' applies to fixed_width streams only")
        if self.columns is not None and self.header:
            raise ValueError("'columns' names the columns of files without a header row: set header: false")
        if self.format == "csv" and not self.header and not self.columns:
            raise ValueError("a csv stream with header: false needs 'columns'")
        names = [c.name for c in self.layout or []] + list(self.columns or [])
        if len(names) != len(set(names)):
            raise ValueError("column names must be unique")
        if self.write_name is not None:
            _check_write_name(self.write_name)
        return self

    @field_validator("pattern")
    @classmethod
    def _inside_the_folder(cls, pattern: str) -> str:
        # A pattern names files of the system's folder; anything else would let a config read any file.
        parts = pattern.replace("\\", "/").split("/")
        if pattern.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", pattern):
            raise ValueError("'pattern' is relative to the system's folder; an absolute path is not allowed")
        if ".." in parts:
            raise ValueError("'pattern' must stay inside the system's folder ('..' is not allowed)")
        return pattern

    def file_name(self, stream: str, batch_id: str) -> str:
        """The name of the file a batch is written to."""
        template = self.write_name or f"{{stream}}_{{batch_id}}.{_EXTENSIONS[self.format]}"
        return template.format(stream=stream, batch_id=batch_id)


def _check_write_name(template: str) -> None:
    if "{batch_id}" not in template:
        raise ValueError("'write_name' must contain {batch_id} so a retried batch overwrites itself")
    if "/" in template or "\\" in template:
        raise ValueError("'write_name' is a file name, not a path")
    try:
        template.format(stream="s", batch_id="b")
    except (KeyError, IndexError, ValueError):
        raise ValueError("'write_name' may only use {stream} and {batch_id}") from None
