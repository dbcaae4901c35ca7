"""Sites: hubs at places that cannot reach each other's databases exchange signed, encrypted bundles.

A peer site is a system of type ``site`` (:class:`SiteConnector`): publishing to it seals
policed batches into bundles in the outbox, ingesting from it applies verified bundles from
the inbox, and ``officehub site exchange`` moves them over SFTP.
The ``sites:`` settings themselves belong to the project config (``officehub.config.site_settings``).
"""

from officehub.config.site_settings import SiteSettings, load_settings
from officehub.sites.settings import SitePaths, site_paths

__all__ = ["SitePaths", "SiteSettings", "load_settings", "site_paths"]
