"""The hub store: golden records, cross-references, checkpoints, runs, quarantine, audit."""

from officehub.store.hub import HubStore

__all__ = ["HubStore"]
