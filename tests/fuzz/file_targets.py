"""Fuzz targets for the file formats: CSV, JSON Lines and fixed-width, read through the files connector.

Each input is written as the one file of a drop folder and read the way an ingest run reads it:
``FilesConnector.read`` from no cursor, every batch consumed.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from officehub.canonical_model.errors import OfficehubError
from officehub.connectors.base import ReadOptions
from officehub.connectors.files import FilesConfig, FilesConnector
from officehub.connectors.formats.text import replace_escaped
from tests.fuzz.outcomes import check_text, logged

#: A layout with every column type, so typed parsing is reached (dates, decimals with a comma).
LAYOUT = [
    {"name": "code", "start": 0, "length": 6},
    {"name": "qty", "start": 6, "length": 5, "align": "right", "type": "int"},
    {"name": "price", "start": 11, "length": 9, "align": "right", "type": "decimal", "format": "0,00"},
    {"name": "since", "start": 20, "length": 8, "type": "date", "format": "%Y%m%d"},
    {"name": "note", "start": 28, "length": 24},
]


class FileDrop:
    """A drop folder of one file, rewritten with each input and read through the connector."""

    def __init__(self, file_name: str, spec: dict[str, Any], names: Callable[[bytes], Iterable[str]]) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="officehub-fuzz-")
        folder = Path(self._folder.name)
        self._path = folder / file_name
        self._names = names
        self._connector = FilesConnector("vendor", FilesConfig(path=folder, streams={"s": spec}), folder)

    def __call__(self, data: bytes) -> None:
        """Read ``data`` as the folder's file; a finding raises."""
        self._path.write_bytes(data)
        names = lambda: self._names(data)  # noqa: E731 - computed only when the marker shows
        with logged() as lines:
            try:
                for batch in self._connector.read("s", None, ReadOptions(batch_size=64)):
                    for reject in batch.rejects:
                        check_text("a reject reason", f"{reject.position} {reject.reason}", names)
            except OfficehubError as exc:
                check_text("an error message", str(exc), names)
        for line in lines:
            check_text("a log line", line, names)


def csv_names(data: bytes) -> list[str]:
    """The column names of a CSV input's header line (reasons may name them)."""
    # Decoded as the reader decodes a header: each undecodable byte becomes one U+FFFD.
    text = io.StringIO(replace_escaped(data.decode("utf-8", errors="surrogateescape")), newline="")
    try:
        return next(csv.reader(text, strict=True), [])
    except csv.Error:
        return []


def jsonl_names(data: bytes) -> list[str]:
    """Every key of every object line of a JSON Lines input (reasons may name them)."""
    found: list[str] = []
    for line in data.splitlines():
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            found += [str(k) for k in value]
    return found


def no_names(data: bytes) -> list[str]:
    """A fixed-width layout's names come from the configuration: none from the input."""
    return []


def csv_target() -> FileDrop:
    """CSV with a header row."""
    return FileDrop("input.csv", {"pattern": "*.csv"}, csv_names)


def jsonl_target() -> FileDrop:
    """JSON Lines."""
    return FileDrop("input.jsonl", {"pattern": "*.jsonl", "format": "jsonl"}, jsonl_names)


def fixed_width_target() -> FileDrop:
    """Fixed-width lines cut by :data:`LAYOUT`."""
    return FileDrop("input.txt", {"pattern": "*.txt", "format": "fixed_width", "layout": LAYOUT}, no_names)
