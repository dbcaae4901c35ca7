"""``mask``: keep the first/last characters, hide the rest (or mask an e-mail's local part)."""

from __future__ import annotations

from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from officehub.policies.operators.base import Operator


class Mask(Operator):
    """Hide characters of a value: ``UA21•••••••••1234``; ``i***@example.com`` in e-mail style."""

    name, strictness = "mask", 30

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        keep_first: int = Field(0, ge=0)
        keep_last: int = Field(4, ge=0)
        char: str = Field("*", min_length=1, max_length=1)
        style: Literal["text", "email"] = "text"

    params: Params

    def apply(self, column: pa.Array) -> pa.Array:
        text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
        if self.params.style == "email":
            # A value that is not an address is masked as text, never passed through.
            masked = pc.replace_substring_regex(text, r"^([^@])[^@]*@", rf"\1{self.params.char * 3}@")
            return pc.if_else(pc.match_substring_regex(text, r"^[^@]+@"), masked, self._mask_text(text))
        return self._mask_text(text)

    def _mask_text(self, text: pa.Array) -> pa.Array:
        first, last = self.params.keep_first, self.params.keep_last
        length = pc.utf8_length(text)
        # A value no longer than what would be kept is masked whole: short values stay hidden.
        short = pc.less_equal(length, first + last)
        hidden = pc.if_else(short, length, pc.subtract(length, first + last))
        head = pc.if_else(short, "", pc.utf8_slice_codeunits(text, 0, first))
        tail = pc.if_else(short, "", pc.utf8_slice_codeunits(text, -last) if last else pc.utf8_slice_codeunits(text, 0, 0))
        stars = pc.binary_repeat(pa.array([self.params.char] * len(text), pa.string()), hidden)
        return pc.binary_join_element_wise(head, stars, tail, "")
