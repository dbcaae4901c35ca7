"""The hub store: golden records, cross-references, checkpoints, runs, quarantine, audit.

``HubStore`` is imported from its submodule on first use (PEP 562), so importing one
submodule (``officehub.store.bookkeeping``…) does not import the whole store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from officehub.lazy import lazy_exports

if TYPE_CHECKING:
    from officehub.store.hub import HubStore

__all__ = ["HubStore"]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {"HubStore": "officehub.store.hub"}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
