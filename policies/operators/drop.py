"""``drop``: the destination does not receive the field at all."""

from __future__ import annotations

import pyarrow as pa

from policies.operators.base import Operator


class Drop(Operator):
    """Remove the field from what leaves the hub."""

    name = "drop"

    def apply(self, column: pa.Array) -> None:
        return None
