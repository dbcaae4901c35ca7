"""The canonical entities in force: the built-ins (customer, product, employee) plus a project's own.

The built-ins are declared in YAML (``officehub/canonical_model/builtin/*.yaml``), in the same form
as a project's model files, and built into pydantic models by :mod:`officehub.canonical_model.declared`.
Every leaf field is classified (see :mod:`officehub.canonical_model.sensitivity`). Repeating groups
become child tables in the hub store; single nested values are flattened into columns
of the entity's own table.

A process works with one model at a time: loading a project installs its declarations
(:func:`install`), which rebuilds :data:`ENTITIES` in place and clears every cache made
with :func:`model_cache`. A project without model files installs the built-ins alone,
which changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

from officehub.canonical_model.builtin import builtin_files
from officehub.canonical_model.declaration import EntityDecl
from officehub.canonical_model.declared import build_entities, merge
from officehub.canonical_model.record import SCHEMA_VERSION, CanonicalRecord

F = TypeVar("F", bound=Callable[..., Any])

#: The built-in declarations, by entity name.
BUILTIN_DECLARATIONS: dict[str, EntityDecl] = merge(list(builtin_files()))

#: Every canonical entity in force, by its name.
ENTITIES: dict[str, type[CanonicalRecord]] = build_entities(BUILTIN_DECLARATIONS)
#: The declarations :data:`ENTITIES` was built from.
DECLARATIONS: dict[str, EntityDecl] = dict(BUILTIN_DECLARATIONS)

_CACHE_CLEARS: list[Callable[[], None]] = []


def model_cache(function: F) -> F:
    """``functools.cache`` for a function of an entity's shape: emptied when another model is installed."""
    cached = cache(function)
    _CACHE_CLEARS.append(cached.cache_clear)
    # The standard library's stubs type the wrapper as _lru_cache_wrapper, not as the function it wraps.
    return cached  # type: ignore[return-value]


def install(declarations: Mapping[str, EntityDecl]) -> bool:
    """Put the model ``declarations`` describe in force; returns whether anything changed.

    Raises :class:`officehub.canonical_model.declared.DeclarationError` (nothing installed) when a
    declaration cannot be built.
    """
    if dict(declarations) == DECLARATIONS:
        return False
    models = build_entities(declarations)
    ENTITIES.clear()
    ENTITIES.update(models)
    DECLARATIONS.clear()
    DECLARATIONS.update(declarations)
    for clear in _CACHE_CLEARS:
        clear()
    return True


Customer = ENTITIES["customer"]
Product = ENTITIES["product"]
Employee = ENTITIES["employee"]

__all__ = ["BUILTIN_DECLARATIONS", "DECLARATIONS", "ENTITIES", "SCHEMA_VERSION", "CanonicalRecord", "Customer",
           "Employee", "Product", "install", "model_cache"]
