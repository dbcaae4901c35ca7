"""Settings of the local-files connector: a folder and its file families (streams)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import ConnectorConfig


class FixedWidthColumn(BaseModel):
    """One column of a fixed-width layout (0-based character offset)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    start: int = Field(ge=0)
    length: int = Field(gt=0)
    align: Literal["left", "right"] = "left"


class FileStream(BaseModel):
    """A family of files in the folder that together form one stream."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description="glob of files to read, e.g. ITEMS_*.TXT")
    format: Literal["csv", "fixed_width"] = "csv"
    encoding: str = "utf-8"
    delimiter: str = Field(",", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    newline: Literal["\n", "\r\n"] = "\n"
    layout: list[FixedWidthColumn] | None = None
    write_name: str = Field("{stream}_{batch_id}.csv", description="file name for each written batch")

    @model_validator(mode="after")
    def _layout_for_fixed_width(self) -> FileStream:
        if self.format == "fixed_width" and not self.layout:
            raise ValueError("a fixed_width stream needs a 'layout'")
        if "{batch_id}" not in self.write_name:
            raise ValueError("'write_name' must contain {batch_id} so a retried batch overwrites itself")
        "".encode(self.encoding)  # LookupError → reported by the caller as an unknown encoding
        return self


class FilesConfig(ConnectorConfig):
    """A local (or mounted) folder: drop folders, exports, legacy flat files."""

    type: str = "files"
    path: Path
    streams: dict[str, FileStream]
