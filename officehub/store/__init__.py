"""The hub store: golden records, cross-references, checkpoints, runs, quarantine, audit.

``HubStore`` is imported from its submodule on first use (PEP 562), so importing one
submodule (``officehub.store.bookkeeping``…) does not import the whole store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from officehub.store.hub import HubStore

__all__ = ["HubStore"]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {"HubStore": "officehub.store.hub"}


def __getattr__(name: str) -> Any:
    """Import a public name from its submodule the first time it is asked for (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The package's names, the ones not imported yet included."""
    return sorted({*globals(), *__all__})
