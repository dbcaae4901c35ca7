"""Connectors: how the hub talks to each kind of vendor system.

Every connector, built-in or third-party, is found through the
``officehub.connectors`` entry-point group. The names below are imported from their
submodules on first use (PEP 562), so importing one connector module does not import them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from officehub.lazy import lazy_exports

if TYPE_CHECKING:
    from officehub.connectors.base import (
        Connector,
        ConnectorConfig,
        Cursor,
        ReadBatch,
        ReadOptions,
        RejectedRecords,
        RejectedRow,
        StreamField,
        StreamInfo,
        WriteMode,
    )
    from officehub.connectors.registry import available, connector_class
    from officehub.connectors.secrets import SecretRef

__all__ = [
    "Connector", "ConnectorConfig", "Cursor", "ReadBatch", "ReadOptions", "RejectedRecords", "RejectedRow", "SecretRef",
    "StreamField", "StreamInfo", "WriteMode", "available", "connector_class",
]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("Connector", "ConnectorConfig", "Cursor", "ReadBatch", "ReadOptions", "RejectedRecords",
                     "RejectedRow", "StreamField", "StreamInfo", "WriteMode"), "officehub.connectors.base"),
    **dict.fromkeys(("available", "connector_class"), "officehub.connectors.registry"),
    "SecretRef": "officehub.connectors.secrets",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
