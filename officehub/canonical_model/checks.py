"""The canonical model compiled to vectorised checks over Arrow columns.

pydantic stays the source of truth: the checks are derived from each field's
annotation (type, length, pattern, range, closed value set, required), run on
whole columns, and only the rows they reject are handed to pydantic, which says
exactly why. Validators that cannot be vectorised (checksums, e-mail syntax,
cross-field rules of a nested value) run over the column's distinct values or
present rows, never over every field of every record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, reduce
from typing import TYPE_CHECKING, Any

import annotated_types as at
from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WrapValidator,
)

from officehub.canonical_model.declared import IdentifierByCountry
from officehub.canonical_model.layout import COLUMN_SEPARATOR, Group, LeafField
from officehub.lazy import LazyModule

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.compute as pc
else:  # imported when a check first runs: loading a project compiles checks without running one
    pa, pc = LazyModule("pyarrow"), LazyModule("pyarrow.compute")

_BOOL_WORDS = {"1": True, "true": True, "t": True, "yes": True, "y": True,
               "0": False, "false": False, "f": False, "no": False, "n": False}
_INT_RE = r"^\s*[+-]?[0-9]+\s*$"
_DECIMAL_RE = r"^\s*[+-]?[0-9]+(\.[0-9]+)?\s*$"


@dataclass
class CheckResult:
    """Typed columns plus, per rejected row, the first reason found."""

    columns: dict[str, pa.Array]
    errors: dict[int, str] = field(default_factory=dict)

    def reject(self, mask: pa.Array, reason: str) -> None:
        """Record ``reason`` for every row where ``mask`` is true and no reason is known yet."""
        for row in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            self.errors.setdefault(row, reason)


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def explain(leaf_or_model: Any, value: Any, default: str) -> str:
    """pydantic's own words for why ``value`` is not valid, without the value itself."""
    annotation = leaf_or_model.annotation if isinstance(leaf_or_model, LeafField) else leaf_or_model
    try:
        _adapter(annotation).validate_python(value)
    except ValidationError as exc:
        err = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        return f"{where}: {err['msg']}" if where else err["msg"]
    return default


def _needs_python(leaf: LeafField) -> bool:
    python_validators = (AfterValidator, BeforeValidator, PlainValidator, WrapValidator)
    return leaf.base_type is EmailStr or any(isinstance(c, python_validators) for c in leaf.constraints)


def _parse_timestamps(values: pa.Array) -> pa.Array:
    def parse(text: str | None) -> datetime | None:
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return pa.array([parse(v) for v in values.to_pylist()], pa.timestamp("us", tz="UTC"))


_ISO_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@cache
def _first_day() -> pa.Scalar:
    return pa.scalar(datetime(1, 1, 1), pa.timestamp("s"))


def _strict_dates(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """ISO dates exactly as pydantic reads them: YYYY-MM-DD, a real day, year 1 or later."""
    text = pc.utf8_trim_whitespace(values)
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls impossible days over (2021-02-29 → 03-01); formatting back exposes them.
    ok = pc.and_(pc.and_(pc.match_substring_regex(text, _ISO_DATE_RE),
                         pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), text)),
                 pc.greater_equal(parsed, _first_day()))
    ok = pc.fill_null(ok, False)
    return pc.cast(pc.if_else(ok, parsed, pa.scalar(None, parsed.type)), pa.date32()), ok


def _masked_cast(values: pa.Array, ok: pa.Array, target: pa.DataType) -> pa.Array:
    return pc.cast(pc.if_else(ok, values, pa.scalar(None, values.type)), target)


def _to_decimal(values: pa.Array, target: pa.Decimal128Type) -> tuple[pa.Array, pa.Array]:
    text = pc.utf8_trim_whitespace(values)
    ok = pc.match_substring_regex(text, _DECIMAL_RE)
    wide = _masked_cast(text, ok, pa.decimal128(38, 10))
    limit = pa.scalar(Decimal(10) ** (target.precision - target.scale), pa.decimal128(38, 10))
    fits = pc.and_(pc.and_(ok, pc.equal(pc.round(wide, target.scale), wide)), pc.less(pc.abs(wide), limit))
    return _masked_cast(wide, fits, target), fits


def blank_as_null(text: pa.Array) -> pa.Array:
    """Text with empty and whitespace-only values made null: an empty cell is a missing value, never an error."""
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), False)
    return pc.if_else(blank, pa.scalar(None, text.type), text) if pc.any(blank).as_py() else text


def coerce(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, pa.Array | None]:
    """``values`` in the ``target`` type, and a mask of rows that could not be converted.

    Empty text converts to null for every typed target (dates, numbers, booleans): connectors
    disagree on whether an empty cell is '' or NULL (MariaDB and CSV say '').
    """
    if values.type == target:
        return values, None
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), target), None
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        try:
            return pc.cast(values, target), None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = pc.cast(values, pa.string())
    if pa.types.is_string(target):
        return values.cast(target), None
    values = blank_as_null(values)
    converted, ok = _coerce_text(values, target)
    failed = pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(ok, False)))
    return converted, failed


def _coerce_text(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, pa.Array]:
    if pa.types.is_date(target):
        return _strict_dates(values)
    if pa.types.is_timestamp(target):
        parsed = _parse_timestamps(values)
        return parsed, pc.is_valid(parsed)
    if pa.types.is_integer(target):
        ok = pc.match_substring_regex(values, _INT_RE)
        return _masked_cast(pc.utf8_trim_whitespace(values), ok, target), ok
    if pa.types.is_decimal(target):
        return _to_decimal(values, target)
    if pa.types.is_boolean(target):
        words = pa.array(list(_BOOL_WORDS)), pa.array(list(_BOOL_WORDS.values()))
        index = pc.index_in(pc.utf8_lower(pc.utf8_trim_whitespace(values)), value_set=words[0])
        return pc.take(words[1], index), pc.is_valid(index)
    return pc.cast(values, target), pc.is_valid(values)


def _bound(value: Any, arrow_type: pa.DataType) -> pa.Scalar:
    if pa.types.is_decimal(arrow_type):
        return pa.scalar(Decimal(str(value)), arrow_type)
    return pa.scalar(value).cast(arrow_type)


def _constraint_violations(leaf: LeafField, typed: pa.Array) -> list[pa.Array]:
    masks = []
    for c in leaf.constraints:
        if isinstance(c, at.MinLen):
            masks.append(pc.less(pc.utf8_length(typed), c.min_length))
        elif isinstance(c, at.MaxLen):
            masks.append(pc.greater(pc.utf8_length(typed), c.max_length))
        elif isinstance(c, (at.Ge, at.Gt, at.Le, at.Lt)):
            op, bound = {at.Ge: (pc.less, "ge"), at.Gt: (pc.less_equal, "gt"),
                         at.Le: (pc.greater, "le"), at.Lt: (pc.greater_equal, "lt")}[type(c)]
            masks.append(op(typed, _bound(getattr(c, bound), typed.type)))
        elif getattr(c, "pattern", None):
            masks.append(pc.invert(pc.match_substring_regex(typed, c.pattern)))
    if leaf.allowed_values:
        masks.append(pc.invert(pc.is_in(typed, value_set=pa.array(leaf.allowed_values))))
    return masks


# Plain ASCII addresses as mail systems write them: a dotted domain with a letter TLD,
# no dot at either end of the local part, no two dots in a row.
_PLAIN_EMAIL_RE = (r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                   r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def _python_violations(leaf: LeafField, typed: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Run the field's own validators once per distinct value: the rows they refuse, and the
    column with each accepted value in the form they return (an identifier's compact form).

    E-mail validation costs ~100 µs a value in email-validator, so plain addresses
    matching a strict pattern pass on the vectorised path; only the others (unusual
    or internationalised addresses, and the invalid ones) are judged by pydantic.
    """
    candidates = typed
    if leaf.base_type is EmailStr:
        plain = pc.and_(pc.match_substring_regex(typed, _PLAIN_EMAIL_RE), pc.less_equal(pc.utf8_length(typed), 254))
        candidates = pc.filter(typed, pc.invert(pc.fill_null(plain, False)))
    adapter = _adapter(leaf.annotation)
    bad, changed = [], {}
    for value in pc.unique(candidates.drop_null()).to_pylist():
        try:
            output = adapter.validate_python(value)
        except ValidationError:
            bad.append(value)
            continue
        if isinstance(output, str) and output != value:
            changed[value] = output
    return pc.is_in(typed, value_set=pa.array(bad, typed.type)), _replaced(typed, changed)


def _replaced(values: pa.Array, changed: dict[Any, Any], keys: pa.Array | None = None) -> pa.Array:
    """``values`` with each row whose key (the value itself, or ``keys``' row) is in ``changed`` replaced."""
    if not changed:
        return values
    keys = values if keys is None else keys
    index = pc.index_in(keys, value_set=pa.array(list(changed), keys.type))
    return pc.if_else(pc.is_valid(index), pc.take(pa.array(list(changed.values()), values.type), index), values)


def _sibling_column(leaf: LeafField, name: str) -> str:
    parent = leaf.column.rpartition(COLUMN_SEPARATOR)[0]
    return f"{parent}{COLUMN_SEPARATOR}{name}" if parent else name


@dataclass(frozen=True)
class CompiledChecks:
    """Checks for a fixed set of leaf fields, compiled once and applied per batch."""

    leaves: tuple[LeafField, ...]
    groups: tuple[Group, ...]
    enforce_required: bool
    #: Fields (or groups) of which a record needs at least one (the entity's ``required_one_of``).
    one_of: tuple[str, ...] = ()

    def apply(self, columns: dict[str, pa.Array], num_rows: int) -> CheckResult:
        """Typed columns for the fields present; reasons for the rows that fail."""
        result = CheckResult({})
        for leaf in self.leaves:
            if leaf.column in columns:
                self._check_leaf(leaf, columns[leaf.column], result)
            elif self.enforce_required and leaf.required:
                result.reject(pa.array([True] * num_rows), f"{leaf.path}: Field required")
        self._check_required_within(result)
        self._check_identifiers_by_country(result)
        if self.enforce_required and self.one_of:
            self._check_one_of(result, num_rows)
        for group in self.groups:
            self._check_group(group, result, num_rows)
        return result

    def _check_leaf(self, leaf: LeafField, raw: pa.Array, result: CheckResult) -> None:
        typed, failed = coerce(raw, leaf.arrow_type)
        result.columns[leaf.column] = typed
        if failed is not None:
            self._explain_rows(leaf, raw, failed, result)
        if leaf.required and self.enforce_required:
            result.reject(pc.is_null(typed), f"{leaf.path}: Field required")
        masks = _constraint_violations(leaf, typed)
        if _needs_python(leaf):
            refused, result.columns[leaf.column] = _python_violations(leaf, typed)
            masks.append(refused)
        present = pc.is_valid(typed)
        for mask in masks:
            self._explain_rows(leaf, typed, pc.and_(present, mask), result)

    @staticmethod
    def _explain_rows(leaf: LeafField, values: pa.Array, mask: pa.Array, result: CheckResult) -> None:
        for row in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            if row not in result.errors:
                result.errors[row] = f"{leaf.path}: {explain(leaf, values[row].as_py(), 'not a valid value')}"

    def _check_required_within(self, result: CheckResult) -> None:
        for leaf in self.leaves:
            if leaf.required_within is None or leaf.column not in result.columns:
                continue
            prefix = leaf.required_within.replace(".", "__") + "__"
            siblings = [a for name, a in result.columns.items() if name.startswith(prefix)]
            present = reduce(pc.or_, [pc.is_valid(a) for a in siblings])
            result.reject(pc.and_(present, pc.is_null(result.columns[leaf.column])),
                          f"{leaf.path}: Field required when {leaf.required_within} is given")

    def _check_identifiers_by_country(self, result: CheckResult) -> None:
        """Numbers checked against the format of their row's country, once per distinct pair."""
        for leaf in self.leaves:
            rule = leaf.identifier_by_country
            if rule is None or leaf.column not in result.columns:
                continue
            numbers = result.columns[leaf.column]
            country_column = _sibling_column(leaf, rule.country)
            countries = result.columns.get(country_column, pa.nulls(len(numbers), pa.string()))
            country_path = country_column.replace(COLUMN_SEPARATOR, ".")
            result.reject(pc.and_(pc.is_valid(numbers), pc.is_null(countries)),
                          f"{leaf.path}: cannot be checked without {country_path}")
            keys = pc.binary_join_element_wise(pc.cast(countries, pa.string()), numbers, "\x1f")
            validators = _validators_of(rule)
            reasons, compact = {}, {}
            for key in pc.unique(keys.drop_null()).to_pylist():
                country, number = key.split("\x1f", 1)
                if country not in validators:
                    continue
                try:
                    compact[key] = validators[country](number)
                except ValueError as exc:
                    reasons[key] = f"{leaf.path}: {exc}"
            if reasons:
                index = pc.index_in(keys, value_set=pa.array(list(reasons)))
                texts = list(reasons.values())
                for row in pc.indices_nonzero(pc.is_valid(index)).to_pylist():
                    result.errors.setdefault(row, texts[index[row].as_py()])
            result.columns[leaf.column] = _replaced(numbers, compact, keys)

    def _check_one_of(self, result: CheckResult, num_rows: int) -> None:
        given = [pc.is_valid(array) for column, array in result.columns.items()
                 if any(column == name or column.startswith(name + COLUMN_SEPARATOR) for name in self.one_of)]
        present = reduce(pc.or_, given) if given else pa.array([False] * num_rows)
        result.reject(pc.invert(present), f"needs {' or '.join(self.one_of)}")

    def _check_group(self, group: Group, result: CheckResult, num_rows: int) -> None:
        """The group's own rules on each row that has any of its values (a column the mapping
        leaves out counts as empty); a required group with no value at all is missing."""
        names = [(f.path, f.column) for f in group.fields if f.column in result.columns]
        offset = len(group.path) + 1 if group.path else 0
        missing = self.enforce_required and group.required
        if not names:
            if missing:
                result.reject(pa.array([True] * num_rows), f"{group.path}: Field required")
            return
        rows = pa.table({c: result.columns[c] for _, c in names}).to_pylist()
        for index, row in enumerate(rows):
            if index in result.errors:
                continue
            if all(v is None for v in row.values()):
                if missing:
                    result.errors[index] = f"{group.path}: Field required"
                continue
            nested = _nest({path[offset:]: row[column] for path, column in names})
            reason = explain(group.model, nested, "")
            if reason:
                result.errors[index] = f"{group.path}: {reason}" if group.path else reason


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{'period.start': x}`` → ``{'period': {'start': x}}``."""
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, last = path.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


@cache
def _validators_of(rule: IdentifierByCountry) -> dict[str, Callable[[str], str]]:
    return rule.validators()


def compile_checks(leaves: Sequence[LeafField], groups: Sequence[Group], *, enforce_required: bool,
                   one_of: Sequence[str] = ()) -> CompiledChecks:
    """Checks for ``leaves`` (and the cross-field rules of ``groups``), compiled once."""
    return CompiledChecks(tuple(leaves), tuple(groups), enforce_required, tuple(one_of))
