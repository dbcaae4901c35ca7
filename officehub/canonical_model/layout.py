"""The flat layout of an entity: its leaf fields as columns, its lists as child tables.

Single nested values are flattened (``name.first`` → column ``name__first``);
lists of value models become collections (child tables). The layout is what the
hub store's tables, the Arrow schema and the mapping targets are built from,
so it is computed once per entity and cached.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache, cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from officehub.canonical_model.entities import ENTITIES, model_cache
from officehub.canonical_model.record import CanonicalRecord
from officehub.canonical_model.sensitivity import Sensitivity, is_free_text, sensitivity_of, stricter
from officehub.lazy import LazyModule

if TYPE_CHECKING:
    import pyarrow as pa
else:  # a layout is built without Arrow (loading a project, the hub store's tables); its Arrow types on demand
    pa = LazyModule("pyarrow")

COLUMN_SEPARATOR = "__"


@dataclass(frozen=True)
class LeafField:
    """One scalar field of an entity or of a collection item."""

    path: str
    annotation: Any
    base_type: Any
    constraints: tuple[Any, ...]
    sensitivity: Sensitivity | None
    required: bool
    #: Path of the optional nested value that, once present, makes this leaf required.
    required_within: str | None = None
    #: People type anything into it (notes): it may carry content of a stricter class than its own.
    free_text: bool = False

    @cached_property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type of the field's values in batches."""
        return _arrow_type(self.base_type, self.decimal)

    @property
    def decimal(self) -> tuple[int, int] | None:
        """(digits, decimal places) of a ``Decimal`` field (18 and 4 unless constrained), else ``None``."""
        if self.base_type is not Decimal:
            return None
        digits = next((c.max_digits for c in self.constraints if getattr(c, "max_digits", None)), 18)
        places = next((c.decimal_places for c in self.constraints
                       if getattr(c, "decimal_places", None) is not None), 4)
        return digits, places

    @property
    def column(self) -> str:
        """The column name in Arrow batches and hub-store tables."""
        return self.path.replace(".", COLUMN_SEPARATOR)

    @property
    def allowed_values(self) -> tuple[str, ...] | None:
        """The closed set of values of a ``Literal`` field, else ``None``."""
        return get_args(self.base_type) if get_origin(self.base_type) is Literal else None

    @property
    def identifier_by_country(self) -> Any:
        """The per-country identifier rule of the field (an ``IdentifierByCountry``), else ``None``."""
        return next((c for c in self.constraints if type(c).__name__ == "IdentifierByCountry"), None)

    @property
    def referenced_entity(self) -> str | None:
        """The entity a ``reference`` field points at, else ``None``."""
        return next((c.entity for c in self.constraints if type(c).__name__ == "Reference"), None)

    @property
    def rules(self) -> list[str]:
        """Every constraint on the field's values, as a user reads it (``model fields``)."""
        found = []
        labels: dict[str, str] = {}
        for item in self.constraints:
            labels.update(dict(getattr(item, "labels", ())))
            for name, template in _RULE_TEXT.items():
                value = getattr(item, name, None)
                if value is not None and not callable(value):
                    found.append(template.format(value))
            if getattr(item, "rule_text", None):
                found.append(item.rule_text)
            func = getattr(item, "func", None)
            if func is not None:
                found.append(getattr(func, "label", func.__name__.strip("_").replace("_", " ")))
        if self.referenced_entity:
            found.append(f"a {self.referenced_entity} of the hub (canonical id)")
        if self.allowed_values:
            found.append("one of " + ", ".join(
                f"{v} ({labels[v]})" if labels.get(v, v) != v else str(v) for v in self.allowed_values))
        return found


#: How each pydantic/annotated-types constraint reads in ``model fields``.
_RULE_TEXT = {"min_length": "at least {} character(s)", "max_length": "at most {} character(s)",
              "pattern": "matches {}", "ge": "≥ {}", "gt": "> {}", "le": "≤ {}", "lt": "< {}",
              "max_digits": "at most {} digits", "decimal_places": "at most {} decimal places"}


@dataclass(frozen=True)
class Group:
    """A nested value model whose own validators span several columns (e.g. a date range)."""

    path: str
    model: type[BaseModel]
    fields: tuple[LeafField, ...]
    #: Whether the record needs the value (a group of optional leaves, as a person's name is).
    required: bool = False


@dataclass(frozen=True)
class Collection:
    """A repeating group of an entity, stored in a child table."""

    name: str
    item_model: type[BaseModel]
    sensitivity: Sensitivity | None
    fields: tuple[LeafField, ...]
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class EntityLayout:
    """Everything about one entity's shape that the engine and the store need."""

    entity: str
    model: type[CanonicalRecord]
    fields: tuple[LeafField, ...]
    groups: tuple[Group, ...]
    collections: tuple[Collection, ...]

    @property
    def required_one_of(self) -> tuple[str, ...]:
        """Fields (or groups) of which a record needs at least one."""
        return self.model.required_one_of

    def field(self, path: str) -> LeafField:
        """The leaf field at ``path``; KeyError if there is none."""
        for leaf in self.fields:
            if leaf.path == path:
                return leaf
        raise KeyError(path)

    def collection(self, name: str) -> Collection:
        """The collection called ``name``; KeyError if there is none."""
        for coll in self.collections:
            if coll.name == name:
                return coll
        raise KeyError(name)

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the entity's flat columns."""
        return pa.schema([pa.field(f.column, f.arrow_type) for f in self.fields])


def _strip(tp: Any) -> tuple[Any, list[Any], bool]:
    """Peel ``Annotated`` and ``Optional`` off a type: (base, metadata, optional)."""
    metadata: list[Any] = []
    optional = False
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            base, *extra = get_args(tp)
            for item in extra:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            tp = base
        elif origin in (Union, types.UnionType) and type(None) in get_args(tp):
            rest = [a for a in get_args(tp) if a is not type(None)]
            optional = True
            tp = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
        else:
            return tp, metadata, optional


def _arrow_type(base: Any, decimal: tuple[int, int] | None) -> pa.DataType:
    if base is bool:
        return pa.bool_()
    if base is int:
        return pa.int64()
    if decimal is not None:
        return pa.decimal128(*decimal)
    if base is datetime:
        return pa.timestamp("us", tz="UTC")
    if base is date:
        return pa.date32()
    return pa.string()


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _has_model_validators(model: type[BaseModel]) -> bool:
    return bool(model.__pydantic_decorators__.model_validators)


#: What walking a model yields: a leaf field, a nested value with validators of its own, or a
#: repeating group (its name, item model and inherited class).
_Item = (tuple[Literal["leaf"], LeafField] | tuple[Literal["group"], Group]
         | tuple[Literal["list"], str, type[BaseModel], Sensitivity | None])


def _walk(model: type[BaseModel], prefix: str, inherited: Sensitivity | None, required: bool,
          within: str | None = None) -> Iterator[_Item]:
    """Yield ('leaf', LeafField) / ('group', Group) / ('list', name, item, class) items."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        base, metadata, optional = _strip(Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation)
        sensitivity = stricter(inherited, sensitivity_of(metadata))
        is_required = required and info.is_required() and not optional
        if _is_model(base):
            inner_within = path if optional or not required else within
            children = list(_walk(base, f"{path}.", sensitivity, is_required, inner_within))
            yield from children
            if _has_model_validators(base):
                yield ("group", Group(path, base, tuple(c[1] for c in children if c[0] == "leaf"), is_required))
        elif get_origin(base) is list and _is_model(get_args(base)[0]):
            yield ("list", name, get_args(base)[0], sensitivity)
        else:
            annotation = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            own_required = info.is_required() and not optional
            leaf = LeafField(
                path, annotation, base, tuple(metadata), sensitivity, is_required,
                within if own_required and not is_required else None,
                is_free_text(metadata),
            )
            yield ("leaf", leaf)


def _split(items: list[_Item]) -> tuple[tuple[LeafField, ...], tuple[Group, ...]]:
    leaves = tuple(i[1] for i in items if i[0] == "leaf")
    groups = tuple(i[1] for i in items if i[0] == "group")
    return leaves, groups


@model_cache
def layout(entity: str) -> EntityLayout:
    """The flat layout of the entity called ``entity`` (customer, product, employee)."""
    return layout_of(ENTITIES[entity])


@cache
def layout_of(model: type[CanonicalRecord]) -> EntityLayout:
    """The flat layout of an entity's model."""
    entity = model.entity_name
    items = list(_walk(model, "", None, True))
    leaves, groups = _split(items)
    collections = []
    for _, name, item_model, sensitivity in (i for i in items if i[0] == "list"):
        child_leaves, child_groups = _split(list(_walk(item_model, "", sensitivity, True)))
        if _has_model_validators(item_model):
            child_groups += (Group("", item_model, child_leaves),)
        collections.append(Collection(name, item_model, sensitivity, child_leaves, child_groups))
    return EntityLayout(entity, model, leaves, groups, tuple(collections))


def unknown_leaf_sensitivity(entity: str) -> list[str]:
    """Paths of leaf fields that carry no sensitivity class (should be empty)."""
    lay = layout(entity)
    paths = [f.path for f in lay.fields if f.sensitivity is None]
    for coll in lay.collections:
        paths += [f"{coll.name}.{f.path}" for f in coll.fields if f.sensitivity is None]
    return paths


__all__ = ["Collection", "EntityLayout", "Group", "LeafField", "layout", "layout_of", "unknown_leaf_sensitivity"]
