"""Sites: hubs at places that cannot reach each other's databases exchange signed, encrypted bundles.

A peer site is a system of type ``site`` (:class:`SiteConnector`): publishing to it seals
policed batches into bundles in the outbox, ingesting from it applies verified bundles from
the inbox, and ``officehub site exchange`` moves them over SFTP. Nothing here imports
``officehub.config`` at import time, so the project config can import ``SiteSettings``.
"""

from officehub.sites.settings import SitePaths, SiteSettings, load_settings, site_paths

__all__ = ["SitePaths", "SiteSettings", "load_settings", "site_paths"]
