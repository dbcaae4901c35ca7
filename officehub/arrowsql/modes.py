"""How a batch lands in a table: the write modes of the connector API and of the hub store alike."""

from __future__ import annotations

from enum import StrEnum


class WriteMode(StrEnum):
    """How a batch lands in the destination stream."""

    APPEND = "append"
    UPSERT = "upsert"
    DELETE = "delete"
