"""The operator contract: one small class per way of treating a field on its way out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from officehub.policies.keys import KeyRing


class NoParams(BaseModel):
    """Operators without parameters accept none."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class OperatorContext:
    """What an operator may need besides its parameters: the field, the keys, today's date."""

    path: str = ""
    keys: KeyRing = field(default_factory=KeyRing)
    today: date = field(default_factory=date.today)


class Operator(ABC):
    """Acts on a whole Arrow column of a batch; returns None to withhold the column entirely.

    ``strictness`` orders operators when two equally specific rules disagree: the
    stricter one wins.
    """

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = NoParams
    strictness: ClassVar[int]

    def __init__(self, params: BaseModel | None = None, context: OperatorContext | None = None) -> None:
        self.params = params if params is not None else self.Params()
        self.context = context or OperatorContext()

    @abstractmethod
    def apply(self, column: pa.Array) -> pa.Array | None:
        """The column as the destination may receive it, or None to drop it."""

    @property
    def withholds(self) -> bool:
        """True when the destination does not receive the original values."""
        return True

    def describe(self) -> str:
        """The operator with its parameters, for explanations."""
        params = self.params.model_dump(exclude_defaults=True)
        return self.name + (f" {params}" if params else "")
