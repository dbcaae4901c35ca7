"""Mappings compiled once into column programs, then applied to every batch.

Inbound: vendor batch → canonical columns, validated by the canonical model's
compiled checks; rows that fail any step are reported with a reason and never
dropped. Outbound: canonical columns that went through a policy plan → vendor
columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from officehub.canonical_model import LeafField, layout
from officehub.canonical_model.checks import CompiledChecks, compile_checks
from officehub.canonical_model.errors import FatalError, FieldFlag
from officehub.mapping.spec import HUB_COLUMNS, FieldSpec, MappingSpec
from officehub.mapping.transforms import Concat, Split, Transform, build_transform
from officehub.policies import PolicedBatch


@dataclass
class MappedBatch:
    """Canonical columns of the rows that mapped and validated, and reasons for the rest."""

    columns: dict[str, pa.Array]
    vendor_ids: list[str]
    parent_ids: list[str] | None
    rows: list[int]
    errors: dict[int, str] = field(default_factory=dict)
    #: Values of mapped rows that did not convert in an ``on_error: flag`` field (the field is null).
    flags: list[FieldFlag] = field(default_factory=list)
    #: How many values of mapped rows were nulled by ``on_error: null``.
    nulled: int = 0


@dataclass(frozen=True)
class _Field:
    leaf: LeafField
    spec: FieldSpec
    transforms: tuple[Transform, ...]


def _leaves(spec: MappingSpec) -> tuple[tuple[LeafField, ...], tuple]:
    lay = layout(spec.entity)
    if spec.collection:
        coll = lay.collection(spec.collection)
        return coll.fields, coll.groups
    return lay.fields, lay.groups


def _maps_within(mapped: set[str], name: str) -> bool:
    """Whether ``mapped`` holds the field ``name`` or a member of the group ``name``."""
    return any(path == name or path.startswith(name + ".") for path in mapped)


def _sibling_path(path: str, name: str) -> str:
    parent = path.rpartition(".")[0]
    return f"{parent}.{name}" if parent else name


class MappingError(ValueError):
    """Problems of one mapping, each with its path inside the mapping (for file and line)."""

    def __init__(self, problems: list[tuple[tuple, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


def _transform_problem(path: str, index: int, exc: Exception) -> tuple[tuple, str]:
    where = ("fields", path, "transforms", index)
    if isinstance(exc, ValidationError):
        err = exc.errors(include_input=False, include_url=False)[0]
        detail = ".".join(str(p) for p in err["loc"])
        return where, f"field '{path}', transform {index + 1}: {detail + ': ' if detail else ''}{err['msg']}"
    return where, f"field '{path}', transform {index + 1}: {exc}"


def compile_fields(spec: MappingSpec) -> list[_Field]:
    """Each mapped field with its canonical leaf and built transforms; MappingError listing every problem."""
    try:
        leaves = {leaf.path: leaf for leaf in _leaves(spec)[0]}
    except KeyError:
        raise MappingError([(("target",), f"unknown target '{spec.target}'")]) from None
    problems: list[tuple[tuple, str]] = []
    compiled = []
    for path, fspec in spec.fields.items():
        if path in HUB_COLUMNS:
            continue
        if path not in leaves:
            problems.append((("fields", path), f"'{path}' is not a field of {spec.target}"))
            continue
        transforms = []
        for index, tspec in enumerate(fspec.transforms):
            try:
                transforms.append(build_transform(tspec))
            except (ValueError, ValidationError) as exc:  # ValidationError is a ValueError; keep it explicit
                problems.append(_transform_problem(path, index, exc))
        compiled.append(_Field(leaves[path], fspec, tuple(transforms)))
    if problems:
        raise MappingError(problems)
    return compiled


def missing_within_groups(spec: MappingSpec, mapped: set[str]) -> list[tuple[tuple, str]]:
    """A group some of whose ``mapped`` fields are given, without a field the model requires whenever it is.

    Without it every record that fills the group would be quarantined (or, extending records,
    break the published schema), so the mapping is refused at ``check`` instead.
    """
    problems = []
    for leaf in _leaves(spec)[0]:
        group = leaf.required_within
        if group is None or leaf.path in mapped:
            continue
        given = sorted(path for path in mapped if path.startswith(group + "."))
        if given:
            problems.append((("fields",), f"maps {', '.join(given)} but not {leaf.path}, which {group} "
                                          f"requires whenever it is given"))
    return problems


def joined(parts: list[pa.Array], separator: str) -> pa.Array:
    """The non-null parts of each row joined by ``separator``; null where a row has none.

    One output per input row, always: pyarrow's join with ``null_handling="skip"`` leaves
    out the rows whose parts are all null, so those rows are taken out first and put back
    as nulls (otherwise one row without any part shifts or shortens the whole column).
    """
    if len(parts) == 1:
        return parts[0]
    strings = [pc.cast(p, pa.string()) for p in parts]
    some = strings[0].is_valid()
    for part in strings[1:]:
        some = pc.or_(some, part.is_valid())
    if pc.all(some).as_py() is not False:
        return pc.binary_join_element_wise(*strings, separator, null_handling="skip")
    present = [pc.filter(p, some) for p in strings]
    values = pc.binary_join_element_wise(*present, separator, null_handling="skip") if len(present[0]) else \
        pa.array([], pa.string())
    return pc.replace_with_mask(pa.nulls(len(some), pa.string()), some, values)


def _vendor_ids(batch: pa.RecordBatch, columns: list[str]) -> pa.Array:
    parts = [pc.cast(batch.column(c), pa.string()) for c in columns]
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "/")


class InboundMapping:
    """A mapping compiled for reading: vendor batch → validated canonical columns."""

    def __init__(self, spec: MappingSpec, name: str) -> None:
        self.spec = spec
        self.name = name
        self.fields = compile_fields(spec)
        leaves, groups = _leaves(spec)
        mapped = {f.leaf.path for f in self.fields}
        self._missing_required = [leaf.path for leaf in leaves if leaf.required and leaf.path not in mapped]
        creates = not spec.extends
        if creates and self._missing_required:
            raise MappingError([(("fields",), f"creates {spec.target} records but does not map required "
                                              f"field(s) {', '.join(self._missing_required)}")])
        # An enriching mapping may fill a group whose required field another mapping of the
        # system supplies; the project's check looks across mappings (missing_within_groups).
        problems = missing_within_groups(spec, mapped) if creates else []
        one_of = () if spec.collection else layout(spec.entity).required_one_of
        if creates and one_of and not any(_maps_within(mapped, name) for name in one_of):
            problems.append((("fields",), f"creates {spec.target} records but maps none of {', '.join(one_of)}; "
                                          f"a {spec.target} needs one of them"))
        problems += [(("fields", f.leaf.path), f"'{f.leaf.path}' is checked against the format of its "
                                               f"{f.leaf.identifier_by_country.country}: map that field too")
                     for f in self.fields if f.leaf.identifier_by_country
                     and _sibling_path(f.leaf.path, f.leaf.identifier_by_country.country) not in mapped]
        self.flagged_fields = [f.leaf.path for f in self.fields if f.spec.on_error == "flag"]
        problems += [(("fields", f.leaf.path, "ids_from"),
                      f"'{f.leaf.path}' is not a reference, so it takes no ids_from")
                     for f in self.fields if f.spec.ids_from and not f.leaf.referenced_entity]
        if spec.collection and self.flagged_fields:
            problems.append((("fields", self.flagged_fields[0], "on_error"),
                             "on_error: flag is for fields of a record, not of a repeating group (use null)"))
        if problems:
            raise MappingError(problems)
        self.checks: CompiledChecks = compile_checks(
            [leaf for leaf in leaves if leaf.path in mapped], groups, enforce_required=creates, one_of=one_of,
        )

    @property
    def vendor_columns(self) -> set[str]:
        """Every vendor column this mapping reads."""
        cols = set(self.spec.key) | {s for f in self.fields for s in f.spec.sources}
        return cols | ({self.spec.parent_key} if self.spec.parent_key else set())

    def deleted(self, batch: pa.RecordBatch) -> pa.Array | None:
        """Which rows the source marks deleted (``deleted_when``), or None if it does not report deletes."""
        rule = self.spec.deleted_when
        if rule is None or batch.num_rows == 0:
            return None
        text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(batch.column(rule.column), pa.string())))
        wanted = [v.lower() for v in rule.values] if rule.values else ["true", "1", "y", "yes", "t"]
        return pc.fill_null(pc.is_in(text, pa.array(wanted, pa.string())), False)

    def vendor_ids(self, batch: pa.RecordBatch) -> list[str]:
        """The vendor ids of ``batch``'s rows, as the hub keys them."""
        return _vendor_ids(batch, self.spec.key).to_pylist()

    def apply(self, batch: pa.RecordBatch) -> MappedBatch:
        """Map and validate one batch."""
        if batch.num_rows == 0:
            return MappedBatch({}, [], [] if self.spec.parent_key else None, [])
        missing = sorted(c for c in self.vendor_columns if c not in batch.schema.names)
        if missing:
            raise FatalError(f"mapping '{self.name}' reads column(s) the stream does not have: {', '.join(missing)}",
                             system=self.spec.system, stream=self.spec.stream)
        errors: dict[int, str] = {}
        ids = _vendor_ids(batch, self.spec.key)
        _note(errors, pc.is_null(ids), f"key {'/'.join(self.spec.key)} is missing")
        parents = None
        if self.spec.parent_key:
            parents = pc.cast(batch.column(self.spec.parent_key), pa.string())
            _note(errors, pc.is_null(parents), f"parent key {self.spec.parent_key} is missing")
        soft: list[_Soft] = []
        columns = {f.leaf.column: self._map_field(f, batch, errors, soft) for f in self.fields}
        checked = self.checks.apply(columns, batch.num_rows)
        for row, reason in checked.errors.items():
            errors.setdefault(row, reason)
        good = [i for i in range(batch.num_rows) if i not in errors]
        take = pa.array(good, pa.int64())
        good_ids = pc.take(ids, take).to_pylist()
        flags, nulled = _soft_failures(soft, good, good_ids)
        return MappedBatch(
            {name: pc.take(col, take) for name, col in checked.columns.items()},
            good_ids,
            pc.take(parents, take).to_pylist() if parents is not None else None,
            good, errors, flags, nulled,
        )

    @staticmethod
    def _map_field(f: _Field, batch: pa.RecordBatch, errors: dict[int, str], soft: list[_Soft]) -> pa.Array:
        sources = f.spec.sources
        transforms = f.transforms
        if isinstance(transforms[0] if transforms else None, Concat):
            values = joined([pc.cast(batch.column(s), pa.string()) for s in sources], transforms[0].params.separator)
            transforms = transforms[1:]
        else:
            values = batch.column(sources[0])
        original = values
        where = f"{'+'.join(sources)} → {f.leaf.path}"
        for transform in transforms:
            values, failed = transform.inbound(values)
            if failed is None:
                continue
            reason = f"{where}: {transform.describe_failure()}"
            if f.spec.on_error == "quarantine":
                _note(errors, failed, reason)
            else:  # the transform left the failed rows null; say which, and keep the text if flagged
                soft.append(_Soft(f.leaf.path, f.spec.on_error, failed, reason, original))
        return values


@dataclass(frozen=True)
class _Soft:
    """Rows whose value of one field did not convert, under ``on_error: null`` or ``flag``."""

    field: str
    action: str
    failed: pa.Array
    reason: str
    original: pa.Array


def _soft_failures(soft: list[_Soft], good: list[int], good_ids: list[str]) -> tuple[list[FieldFlag], int]:
    """Flags (and the nulled count) of the rows that were stored; a quarantined row's failures go with it."""
    if not soft:
        return [], 0
    position = dict(zip(good, good_ids))
    latest = {vendor_id: row for row, vendor_id in position.items()}  # a key read twice keeps its last row
    flags: list[FieldFlag] = []
    nulled = 0
    seen: set[tuple[int, str]] = set()  # a chain may fail twice on one value: count it once
    for item in soft:
        rows = [r for r in pc.indices_nonzero(pc.fill_null(item.failed, False)).to_pylist()
                if r in position and latest[position[r]] == r and (r, item.field) not in seen]
        seen.update((r, item.field) for r in rows)
        if item.action == "null":
            nulled += len(rows)
            continue
        text = pc.cast(item.original, pa.string()) if rows else None
        flags += [FieldFlag(position[r], item.field, item.reason, text[r].as_py()) for r in rows]
    return flags, nulled


def _note(errors: dict[int, str], mask: pa.Array, reason: str) -> None:
    for row in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
        errors.setdefault(row, reason)


class OutboundMapping:
    """A mapping compiled for publishing: policed canonical columns → vendor columns."""

    def __init__(self, spec: MappingSpec, name: str) -> None:
        if spec.collection:
            raise MappingError([(("target",), "publishing a repeating group on its own is not supported yet; "
                                              "publish the entity")])
        self.spec = spec
        self.name = name
        self.fields = compile_fields(spec)
        self._hub = {path: fspec for path, fspec in spec.fields.items() if path in HUB_COLUMNS}

    @property
    def canonical_columns(self) -> list[str]:
        """The golden-record columns this mapping publishes (hub columns included)."""
        return [*self._hub, *(f.leaf.column for f in self.fields)]

    def apply(self, policed: PolicedBatch, empty: frozenset[str] = frozenset()) -> pa.RecordBatch:
        """Vendor columns for the canonical columns a policy plan let through.

        A field the plan withholds is left out, unless its path is in ``empty``: the
        destination may hold an earlier value of it, which only an explicit null replaces.
        """
        if not isinstance(policed, PolicedBatch):
            raise TypeError("outbound mappings take only batches that went through a policy plan")
        columns = policed.columns
        out: dict[str, Any] = {}
        for path, fspec in self._hub.items():
            out[fspec.sources[0]] = columns[path]
        splits: dict[str, list[tuple[int, str, pa.Array]]] = {}
        for f in self.fields:
            if f.leaf.column in columns:
                values = columns[f.leaf.column]
            elif f.leaf.path in empty:
                values = pa.nulls(policed.num_rows, f.leaf.arrow_type)
            else:
                continue  # withheld by the policy: the vendor column is not written at all
            if f.leaf.column in policed.transformed:
                # Hashed, masked or generalised by the policy: written exactly as the policy made it.
                out[f.spec.sources[0]] = values
                continue
            for transform in reversed(f.transforms):
                if isinstance(transform, Split):
                    splits.setdefault(f.spec.sources[0], []).append(
                        (transform.params.part, transform.params.separator, values))
                    break
                if isinstance(transform, Concat):
                    out.update(_unconcat(values, f.spec.sources, transform.params.separator))
                    break
                values = transform.outbound(values)
            else:
                out[f.spec.sources[0]] = values
        for column, parts in splits.items():
            ordered = [p[2] for p in sorted(parts, key=lambda p: p[0])]
            out[column] = joined(ordered, parts[0][1])
        return pa.RecordBatch.from_pydict(out)


def _unconcat(values: pa.Array, sources: list[str], separator: str) -> dict[str, pa.Array]:
    pieces = pc.split_pattern(pc.cast(values, pa.string()), separator, max_splits=len(sources) - 1)
    result = {}
    for index, source in enumerate(sources):
        has = pc.fill_null(pc.greater(pc.list_value_length(pieces), index), False)
        result[source] = pc.list_element(pc.if_else(has, pieces, pa.scalar(None, pieces.type)), index)
    return result
