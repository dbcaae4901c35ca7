"""Site operations on a loaded project, shared by the CLI and the orchestrator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from officehub.canonical_model.errors import FatalError
from officehub.config import Project
from officehub.config.site_settings import SiteSettings
from officehub.sites.connector import SiteConfig
from officehub.sites.keys import SiteCard, public_card
from officehub.sites.settings import SitePaths, site_paths
from officehub.sites.status import LinkStatus, link_status

if TYPE_CHECKING:
    from officehub.sites.transport import ExchangeResult


@dataclass(frozen=True)
class SiteContext:
    """This site's settings and folder within a project."""

    settings: SiteSettings
    paths: SitePaths
    base_dir: Path

    def passphrase(self) -> bytes:
        """The passphrase of the site's private keys, from its reference."""
        return self.settings.passphrase.resolve(self.base_dir).get_secret_value().encode()

    def card(self) -> SiteCard:
        """This site's public card; its name must agree with ``sites.name`` when that is set."""
        card = public_card(self.paths)
        if self.settings.name and self.settings.name != card.site:
            raise FatalError(f"sites.name is '{self.settings.name}' but the site folder holds site '{card.site}'")
        return card


def context(project: Project) -> SiteContext:
    """The site context of ``project``."""
    settings = project.config.sites
    return SiteContext(settings, site_paths(settings, project.base_dir), project.base_dir)


def peer_systems(project: Project) -> dict[str, SiteConfig]:
    """The project's systems of type ``site``, with their validated settings."""
    return {name: SiteConfig.model_validate(system.connector_settings())
            for name, system in project.config.systems.items() if system.type == "site"}


def peer_config(project: Project, peer: str) -> SiteConfig:
    """The settings of system ``peer``; FatalError if it is not a site of this project."""
    peers = peer_systems(project)
    if peer not in peers:
        raise FatalError(f"'{peer}' is not a system of type site here (sites: {', '.join(peers) or 'none'})")
    return peers[peer]


def exchange_with(project: Project, peer: str) -> ExchangeResult:
    """Send the outbox to ``peer`` and apply its acknowledgement."""
    ctx = context(project)
    # SFTP (paramiko) is imported only when a site actually exchanges: `officehub` itself
    # runs without the sftp extra.
    from officehub.sites.transport import exchange

    return exchange(ctx.paths, ctx.card().site, peer, peer_config(project, peer), project.base_dir)


def statuses(project: Project) -> list[LinkStatus]:
    """The status of every site link of the project."""
    ctx = context(project)
    me = ctx.card().site
    return [link_status(ctx.paths, me, peer) for peer in peer_systems(project)]
