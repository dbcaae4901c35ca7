"""``generalize``: coarser values — a date to its year or month, an age band, a postal-code prefix."""

from __future__ import annotations

from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, model_validator

from officehub.policies.operators.base import Operator


class Generalize(Operator):
    """Make values coarser so they describe a group, not a person."""

    name, strictness = "generalize", 20

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        to: Literal["year", "month", "age_band", "prefix", "band"]
        prefix_length: int = Field(3, ge=1, description="characters kept with to: prefix (ZIP3)")
        band_size: int = Field(10, ge=1, description="width of an age band or number band")
        top_age: int | None = Field(None, ge=1, description="ages from this one on collapse into 'N+'")

        @model_validator(mode="after")
        def _top_age_for_dates(self) -> Generalize.Params:
            if self.top_age is not None and self.to not in ("year", "age_band"):
                raise ValueError("top_age applies to 'year' and 'age_band' only")
            return self

    params: Params

    def apply(self, column: pa.Array) -> pa.Array:
        to = self.params.to
        if to == "prefix":
            return pc.utf8_slice_codeunits(pc.cast(column, pa.string()), 0, self.params.prefix_length)
        if to == "band":
            return self._bands(pc.cast(column, pa.float64()))
        dates = pc.cast(column, pa.timestamp("s")) if not pa.types.is_timestamp(column.type) else column
        if to == "age_band":
            return self._bands(pc.cast(self._age(dates), pa.float64()), top=self.params.top_age)
        text = pc.strftime(dates, format="%Y" if to == "year" else "%Y-%m")
        return self._collapse_old(text, dates)

    def _age(self, dates: pa.Array) -> pa.Array:
        """Whole years from each date to today (a birth date gives an age)."""
        today = self.context.today
        years = pc.subtract(pa.scalar(today.year), pc.year(dates))
        before_birthday = pc.or_(pc.greater(pc.month(dates), today.month),
                                 pc.and_(pc.equal(pc.month(dates), today.month), pc.greater(pc.day(dates), today.day)))
        return pc.subtract(years, pc.cast(before_birthday, pa.int64()))

    def _collapse_old(self, text: pa.Array, dates: pa.Array) -> pa.Array:
        # HIPAA Safe Harbor: even the year of a date that shows an age over 89 must go.
        if self.params.top_age is None:
            return text
        old = pc.greater_equal(self._age(dates), self.params.top_age)
        return pc.if_else(old, f"{self.params.top_age}+", text)

    def _bands(self, numbers: pa.Array, top: int | None = None) -> pa.Array:
        size = self.params.band_size
        low = pc.multiply(pc.floor(pc.divide(numbers, size)), size)
        label = pc.binary_join_element_wise(pc.cast(pc.cast(low, pa.int64()), pa.string()),
                                            pc.cast(pc.cast(pc.add(low, size - 1), pa.int64()), pa.string()), "-")
        if top is None:
            return label
        return pc.if_else(pc.greater_equal(numbers, top), f"{top}+", label)
