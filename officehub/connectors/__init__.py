"""Connectors: how the hub talks to each kind of vendor system.

Every connector, built-in or third-party, is found through the
``officehub.connectors`` entry-point group.
"""

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
