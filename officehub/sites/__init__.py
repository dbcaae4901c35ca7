"""Sites: hubs at places that cannot reach each other's databases exchange signed, encrypted bundles.

A peer site is a system of type ``site`` (:class:`SiteConnector`): publishing to it seals
policed batches into bundles in the outbox, ingesting from it applies verified bundles from
the inbox, and ``officehub site exchange`` moves them over SFTP.
The ``sites:`` settings themselves belong to the project config (``officehub.config.site_settings``).
The names below are imported from their modules on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from officehub.config.site_settings import SiteSettings, load_settings
    from officehub.sites.settings import SitePaths, site_paths

__all__ = ["SitePaths", "SiteSettings", "load_settings", "site_paths"]

#: The module defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("SiteSettings", "load_settings"), "officehub.config.site_settings"),
    **dict.fromkeys(("SitePaths", "site_paths"), "officehub.sites.settings"),
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The package's names, the ones not imported yet included."""
    return sorted({*globals(), *__all__})
