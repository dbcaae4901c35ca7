"""``allow``: the destination receives the field unchanged."""

from __future__ import annotations

import pyarrow as pa

from policies.operators.base import Operator


class Allow(Operator):
    """Pass the field through as it is."""

    name = "allow"

    def apply(self, column: pa.Array) -> pa.Array:
        return column

    @property
    def withholds(self) -> bool:
        return False
