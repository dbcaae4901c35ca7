"""Sites: hubs at places that cannot reach each other's databases exchange signed, encrypted bundles.

A peer site is a system of type ``site`` (:class:`SiteConnector`): publishing to it seals
policed batches into bundles in the outbox, ingesting from it applies verified bundles from
the inbox, and ``officehub site exchange`` moves them over SFTP.
The ``sites:`` settings themselves belong to the project config (``officehub.config.site_settings``).
The names below are imported from their modules on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from officehub.lazy import lazy_exports

if TYPE_CHECKING:
    from officehub.config.site_settings import SiteSettings, load_settings
    from officehub.sites.settings import SitePaths, site_paths

__all__ = ["SitePaths", "SiteSettings", "load_settings", "site_paths"]

#: The module defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("SiteSettings", "load_settings"), "officehub.config.site_settings"),
    **dict.fromkeys(("SitePaths", "site_paths"), "officehub.sites.settings"),
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
