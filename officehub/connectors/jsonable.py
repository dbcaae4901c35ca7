"""Batch values as JSON can carry them: the one conversion every connector and the hub share."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    """Dates and times in ISO 8601, decimals as text, bytes as hex; everything else unchanged."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def json_default(value: Any) -> Any:
    """``default=`` for ``json.dumps``: converts what :func:`jsonable` knows, refuses the rest."""
    converted = jsonable(value)
    if converted is value:
        raise TypeError(f"a {type(value).__name__} value cannot be written as JSON")
    return converted
