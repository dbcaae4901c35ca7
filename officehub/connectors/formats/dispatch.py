"""One entry point per job — parse, render, describe — whatever the stream's format."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

import pyarrow as pa

from officehub.canonical_model.errors import FatalError
from officehub.connectors.base import StreamField
from officehub.connectors.formats import delimited, jsonl
from officehub.connectors.formats.fixed_width import read_fixed_width, render_fixed_width
from officehub.connectors.formats.fixed_width import schema as layout_schema
from officehub.connectors.formats.spec import FileStream
from officehub.connectors.formats.text import FormatProblem, Parsed

_READERS: dict[str, Callable[[BinaryIO, str, FileStream], Iterator[Parsed]]] = {
    "csv": delimited.read_csv, "jsonl": jsonl.read_jsonl, "fixed_width": read_fixed_width,
}
_RENDERERS: dict[str, Callable[[pa.RecordBatch, FileStream], bytes]] = {
    "csv": delimited.render_csv, "jsonl": jsonl.render_jsonl, "fixed_width": render_fixed_width,
}
_HEADERS = {"csv": delimited.header_of, "jsonl": jsonl.header_of}


def parse(handle: BinaryIO, file: str, spec: FileStream) -> Iterator[Parsed]:
    """Rows (or rejects) of one file, streamed from a binary handle; ``file`` names their positions."""
    return _READERS[spec.format](handle, file, spec)


def render(batch: pa.RecordBatch, spec: FileStream, system: str, stream: str) -> bytes:
    """A batch as the bytes of one file; a FatalError naming the stream (no value) if it does not fit."""
    try:
        return _RENDERERS[spec.format](batch, spec)
    except UnicodeEncodeError:
        raise FatalError(f"a value cannot be encoded in {spec.encoding}", system=system, stream=stream) from None
    except FormatProblem as problem:
        raise FatalError(str(problem), system=system, stream=stream) from None


def stream_fields(spec: FileStream, first_line: bytes | None) -> tuple[StreamField, ...]:
    """A stream's fields: typed from the layout, else named by the first line of one of its files."""
    if spec.layout:
        return tuple(StreamField(f.name, str(f.type)) for f in layout_schema(spec))
    names = _HEADERS[spec.format](first_line or b"", spec)
    return tuple(StreamField(name, "string") for name in names)
