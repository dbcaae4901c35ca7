"""The state of this hub's links with its peer sites, as ``officehub site status`` reports it (a read; nothing audited)."""

from __future__ import annotations

from dataclasses import dataclass, field

from officehub.canonical_model.errors import FatalError
from officehub.config import Project
from officehub.sites import service
from officehub.sites.status import LinkStatus

__all__ = ["LinkStatus", "SiteOverview", "overview"]


@dataclass(frozen=True)
class SiteOverview:
    """This site's name, its peers, each link's status, and why the links could not be read (if so)."""

    site: str | None
    peers: list[str]
    links: list[LinkStatus] = field(default_factory=list)
    problem: str | None = None

    @property
    def configured(self) -> bool:
        """Whether the project has any peer site."""
        return bool(self.peers)


def overview(project: Project) -> SiteOverview:
    """Every site link of ``project``: last sent and acknowledged bundle, what waits, lag, gaps, errors."""
    peers = sorted(service.peer_systems(project))
    name = project.config.sites.name
    if not peers:
        return SiteOverview(name, peers)
    if not (service.context(project).paths.identity / "site.json").is_file():
        return SiteOverview(name, peers, problem="this site has no identity yet: run 'officehub site init NAME' "
                                                  "in the project before its links can be read")
    try:
        return SiteOverview(name, peers, service.statuses(project))
    except FatalError as exc:
        return SiteOverview(name, peers, problem=exc.describe())
