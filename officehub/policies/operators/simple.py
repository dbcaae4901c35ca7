"""The operators that need no key: allow, drop, nullify, redact."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from officehub.policies.operators.base import Operator


class Allow(Operator):
    """Pass the field through as it is."""

    name, strictness = "allow", 0

    def apply(self, column: pa.Array) -> pa.Array:
        return column

    @property
    def withholds(self) -> bool:
        return False


class Drop(Operator):
    """Leave the field out entirely: the destination's column is not written."""

    name, strictness = "drop", 100

    def apply(self, column: pa.Array) -> None:
        return None


class Nullify(Operator):
    """Send the field, always empty (for destinations whose import needs the column)."""

    name, strictness = "nullify", 90

    def apply(self, column: pa.Array) -> pa.Array:
        return pa.nulls(len(column), column.type)


class Redact(Operator):
    """Replace every present value with a constant such as ``[REDACTED]``."""

    name, strictness = "redact", 80

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        value: str = "[REDACTED]"

    params: Params

    def apply(self, column: pa.Array) -> pa.Array:
        constant = pa.array([self.params.value] * len(column), pa.string())
        return pc.if_else(pc.is_valid(column), constant, pa.scalar(None, pa.string()))
