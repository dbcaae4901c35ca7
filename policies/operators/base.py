"""The operator contract: one small class per way of treating a field on its way out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict


class NoParams(BaseModel):
    """Operators without parameters accept none."""

    model_config = ConfigDict(extra="forbid")


class Operator(ABC):
    """Acts on a whole Arrow column of a batch; returns None to withhold the column entirely."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else self.Params()

    @abstractmethod
    def apply(self, column: pa.Array) -> pa.Array | None:
        """The column as the destination may receive it, or None to drop it."""

    @property
    def withholds(self) -> bool:
        """True when the destination does not receive the original values."""
        return True
