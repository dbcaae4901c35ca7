"""Named transforms of mapping fields, each working on a whole Arrow column.

``inbound`` turns vendor values into canonical ones and reports the rows it
could not convert; ``outbound`` turns canonical values back into the vendor's
form. Each transform is one small class registered by name with a pydantic
``Params`` model, so a bad parameter is a config error, not a runtime surprise.
"""

from __future__ import annotations

import re
from abc import ABC
from datetime import datetime
from typing import Any, ClassVar

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, model_validator

from officehub.canonical_model.checks import blank_as_null

#: What a transform gives back: the converted column and the rows it failed on (or None).
Result = tuple[pa.Array, pa.Array | None]


class NoParams(BaseModel):
    """Transforms without parameters accept none."""

    model_config = ConfigDict(extra="forbid")


class Transform(ABC):
    """One step of a field mapping. Subclasses set ``name`` and override what they need."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = NoParams
    #: Why a row failed, for the quarantine (never quotes the value).
    failure: ClassVar[str] = "cannot convert"

    def __init__(self, params: BaseModel) -> None:
        self.params = params

    def inbound(self, values: pa.Array) -> Result:
        """Vendor → canonical."""
        return values, None

    def outbound(self, values: pa.Array) -> pa.Array:
        """Canonical → vendor."""
        return values

    def describe_failure(self) -> str:
        """The quarantine reason for a row this transform rejected."""
        return self.failure


def _as_text(values: pa.Array) -> pa.Array:
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def _present_text(values: pa.Array) -> pa.Array:
    """Values as trimmed text, empty and whitespace-only ones null: typed transforms never fail on an empty cell."""
    trimmed = pc.utf8_trim_whitespace(_as_text(values))
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _failed(before: pa.Array, after: pa.Array) -> pa.Array:
    """Rows that had a value and lost it in conversion."""
    return pc.and_(pc.is_valid(before), pc.is_null(after))


class Trim(Transform):
    """Strip leading and trailing whitespace; blank becomes null."""

    name = "trim"

    def inbound(self, values: pa.Array) -> Result:
        return _present_text(values), None

    def outbound(self, values: pa.Array) -> pa.Array:
        return self.inbound(values)[0]


class _Case(Transform):
    function: ClassVar[str]

    def inbound(self, values: pa.Array) -> Result:
        return pc.call_function(self.function, [_as_text(values)]), None

    def outbound(self, values: pa.Array) -> pa.Array:
        return self.inbound(values)[0]


class Upper(_Case):
    """Upper-case (both directions)."""

    name, function = "upper", "utf8_upper"


class Lower(_Case):
    """Lower-case (both directions)."""

    name, function = "lower", "utf8_lower"


class Title(_Case):
    """Title-case, for names typed in capitals (both directions).

    A letter after an apostrophe stays upper-case only after a one-letter prefix
    (O'Brien, D'Artagnan); inside a word it is lower-case (Ukrainian Мар'яна, not Мар'Яна).
    """

    name, function = "title", "utf8_title"
    _INNER = r"\p{L}{2,}['’ʼ]\p{Lu}"

    def inbound(self, values: pa.Array) -> Result:
        titled, _ = super().inbound(values)
        inner = pc.fill_null(pc.match_substring_regex(titled, self._INNER), False)
        if not pc.any(inner).as_py():
            return titled, None
        fixed = [re.sub(r"(\w{2,}['’ʼ])(\w)", lambda m: m.group(1) + m.group(2).lower(), v) if hit else v
                 for v, hit in zip(titled.to_pylist(), inner.to_pylist())]
        return pa.array(fixed, pa.string()), None


class NullIf(Transform):
    """Treat placeholder values ('n/a', '-', '') as missing."""

    name = "null_if"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        values: list[str] = Field(min_length=1)

    def inbound(self, values: pa.Array) -> Result:
        text = _as_text(values)
        hit = pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(text)),
                       value_set=pa.array([v.strip().lower() for v in self.params.values]))
        return pc.if_else(hit, pa.scalar(None, pa.string()), text), None


def _parse_strict(text: pa.Array, fmt: str, unit: str) -> tuple[pa.Array, pa.Array]:
    """Parse with ``fmt``; impossible days (31.02) are failures, not rolled over.

    Arrow's strptime is fast but rolls impossible days over; a value whose
    re-formatted text differs from its input (a rollover, or merely no zero
    padding) is settled by Python's strptime, once per such distinct value.
    ``text`` comes trimmed, blanks null (:func:`_present_text`).
    """
    parsed = pc.strptime(text, format=fmt, unit=unit, error_is_null=True)
    doubtful = pc.fill_null(pc.not_equal(pc.strftime(parsed, format=fmt), text), False)
    doubts = pc.unique(pc.filter(text, doubtful)).to_pylist()
    impossible = [v for v in doubts if not _python_parses(v, fmt)]
    bad = pc.or_(pc.and_(pc.is_valid(text), pc.is_null(parsed)),
                 pc.and_(doubtful, pc.is_in(text, value_set=pa.array(impossible, pa.string()))))
    return pc.if_else(bad, pa.scalar(None, parsed.type), parsed), bad


def _python_parses(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


class _Dated(Transform):
    """Dates and timestamps written in an explicit strftime format."""

    kind: ClassVar[str]

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        format: str

    def describe_failure(self) -> str:
        return f"not a {self.kind} in format {self.params.format}"

    def outbound(self, values: pa.Array) -> pa.Array:
        return pc.strftime(values, format=self.params.format)


class DateFormat(_Dated):
    """A date written in an explicit strftime format, e.g. ``%d.%m.%Y``."""

    name, kind = "date", "date"

    def inbound(self, values: pa.Array) -> Result:
        if pa.types.is_date(values.type):
            return values, None
        parsed, bad = _parse_strict(_present_text(values), self.params.format, "s")
        return pc.cast(parsed, pa.date32()), bad

    def outbound(self, values: pa.Array) -> pa.Array:
        if pa.types.is_string(values.type):
            values = pc.cast(values, pa.date32())
        return super().outbound(pc.cast(values, pa.timestamp("s")))


class DateTimeFormat(_Dated):
    """A timestamp written in an explicit strftime format, taken as UTC unless it has an offset."""

    name, kind = "datetime", "timestamp"

    def inbound(self, values: pa.Array) -> Result:
        parsed, bad = _parse_strict(_present_text(values), self.params.format, "us")
        stamped = pc.assume_timezone(parsed, "UTC") if parsed.type.tz is None else parsed
        return stamped, bad


class Number(Transform):
    """A number written with a decimal comma and/or thousands separators."""

    name = "number"
    failure = "not a number"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        decimal: str = Field(",", min_length=1, max_length=1)
        thousands: str | None = Field(None, max_length=1)

    def inbound(self, values: pa.Array) -> Result:
        text = _present_text(values)
        if self.params.thousands:
            text = pc.replace_substring(text, self.params.thousands, "")
        text = pc.replace_substring(text, self.params.decimal, ".")
        ok = pc.match_substring_regex(text, r"^[+-]?[0-9]+(\.[0-9]+)?$")
        bad = pc.and_(pc.is_valid(text), pc.invert(ok))
        return pc.if_else(bad, pa.scalar(None, pa.string()), text), bad

    def outbound(self, values: pa.Array) -> pa.Array:
        return pc.replace_substring(_as_text(values), ".", self.params.decimal)


class Phone(Transform):
    """A phone number as written by people → E.164, national numbers read in ``region``."""

    name = "phone"
    failure = "not a valid phone number"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        region: str = Field("ZZ", pattern=r"^[A-Z]{2}$")
        format: str = Field("e164", pattern=r"^(e164|international|national)$")

    def _e164(self, text: str) -> str | None:
        try:
            number = phonenumbers.parse(text, self.params.region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def inbound(self, values: pa.Array) -> Result:
        # Parsing is per value, so do it once per distinct value of the batch.
        text = _present_text(values)
        distinct = pc.unique(text.drop_null())
        converted = pa.array([self._e164(v) for v in distinct.to_pylist()], pa.string())
        result = pc.take(converted, pc.index_in(text, value_set=distinct))
        return result, _failed(text, result)

    def outbound(self, values: pa.Array) -> pa.Array:
        if self.params.format == "e164":
            return values
        style = getattr(phonenumbers.PhoneNumberFormat, self.params.format.upper())
        return pa.array([None if v is None else phonenumbers.format_number(phonenumbers.parse(v), style)
                         for v in values.to_pylist()], pa.string())


class Lookup(Transform):
    """A code table: vendor code → canonical value (and back)."""

    name = "lookup"
    failure = "code not in the lookup table"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        values: dict[str, str] = Field(min_length=1)
        default: str | None = None
        case_sensitive: bool = False

        @model_validator(mode="after")
        def _reversible(self) -> Lookup.Params:
            if len(set(self.values.values())) != len(self.values):
                raise ValueError("two codes map to the same value, so the table cannot be reversed")
            if not self.case_sensitive and len({k.upper() for k in self.values}) != len(self.values):
                raise ValueError("two codes differ only in case; set case_sensitive: true to keep both")
            return self

    def inbound(self, values: pa.Array) -> Result:
        text = _present_text(values)
        keys = list(self.params.values)
        if not self.params.case_sensitive:
            text, keys = pc.utf8_upper(text), [k.upper() for k in keys]
        result = pc.take(pa.array(list(self.params.values.values())), pc.index_in(text, value_set=pa.array(keys)))
        if self.params.default is not None:
            result = pc.fill_null(result, self.params.default) if len(result) else result
            result = pc.if_else(pc.is_valid(text), result, pa.scalar(None, pa.string()))
        return result, _failed(text, result)

    def outbound(self, values: pa.Array) -> pa.Array:
        reverse = {v: k for k, v in self.params.values.items()}
        return pc.take(pa.array(list(reverse.values())), pc.index_in(_as_text(values), value_set=pa.array(list(reverse))))


class Default(Transform):
    """Fill missing (null or empty) values with a constant."""

    name = "default"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        value: Any

    def inbound(self, values: pa.Array) -> Result:
        if not len(values):
            return values, None
        if pa.types.is_null(values.type):  # a column the source never filled: every row takes the default
            return pa.array([self.params.value] * len(values)), None
        if pa.types.is_string(values.type):
            values = blank_as_null(values)
        try:
            fill = pa.scalar(self.params.value).cast(values.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            # A default of another type than the column (text for a numeric column): fill as
            # text and let the model's check convert or refuse the result, row by row.
            values, fill = _as_text(values), pa.scalar(str(self.params.value))
        return pc.fill_null(values, fill), None


class Constant(Transform):
    """A fixed value wherever the source has one (e.g. the currency of an amount column)."""

    name = "constant"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        value: str

    def inbound(self, values: pa.Array) -> Result:
        fixed = pa.array([self.params.value] * len(values), pa.string())
        present = pc.is_valid(_present_text(values))
        return pc.if_else(present, fixed, pa.scalar(None, pa.string())), None


class Split(Transform):
    """Take one part of a vendor field split on a separator (e.g. first name of 'Ivan Petrenko')."""

    name = "split"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        separator: str = Field(" ", min_length=1)
        part: int = Field(ge=0, description="0-based part; the last part keeps any further separators")
        parts: int = Field(2, ge=2, description="how many parts the field is split into")

    def inbound(self, values: pa.Array) -> Result:
        if not len(values):
            return pa.array([], pa.string()), None
        pieces = pc.split_pattern(_present_text(values), self.params.separator,
                                  max_splits=self.params.parts - 1)
        # A value with fewer parts yields null for the missing part, not an error.
        has_part = pc.fill_null(pc.greater(pc.list_value_length(pieces), self.params.part), False)
        return pc.list_element(pc.if_else(has_part, pieces, pa.scalar(None, pieces.type)), self.params.part), None


class Concat(Transform):
    """Join several vendor fields into one canonical field (inverse: split on the separator)."""

    name = "concat"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        separator: str = " "


#: Every built-in transform by name.
TRANSFORMS: dict[str, type[Transform]] = {
    cls.name: cls for cls in (Trim, Upper, Lower, Title, NullIf, DateFormat, DateTimeFormat, Number, Phone,
                              Lookup, Default, Constant, Split, Concat)
}


def build_transform(spec: str | dict[str, Any]) -> Transform:
    """A transform from its YAML form: ``trim`` or ``{date: {format: '%d.%m.%Y'}}`` or ``{date: '%d.%m.%Y'}``."""
    if isinstance(spec, str):
        name, raw = spec, {}
    elif isinstance(spec, dict) and len(spec) == 1:
        name, raw = next(iter(spec.items()))
    else:
        raise ValueError("a transform is a name or a one-key mapping {name: params}")
    if name not in TRANSFORMS:
        raise ValueError(f"unknown transform '{name}' (known: {', '.join(sorted(TRANSFORMS))})")
    cls = TRANSFORMS[name]
    if raw is not None and not isinstance(raw, dict):
        # The one-parameter shorthand: {date: '%d.%m.%Y'} == {date: {format: '%d.%m.%Y'}}
        first = next(iter(cls.Params.model_fields), None)
        if first is None:
            raise ValueError(f"transform '{name}' takes no parameters")
        raw = {first: raw}
    return cls(cls.Params.model_validate(raw or {}))
