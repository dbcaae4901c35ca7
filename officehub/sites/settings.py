"""Where this site keeps its keys, peers, outbox and exchange folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from officehub.config.site_settings import SiteSettings


@dataclass(frozen=True)
class SitePaths:
    """The layout of a site folder; only ``exchange/`` is served to peers over SFTP."""

    root: Path

    @property
    def identity(self) -> Path:
        """Private keys (encrypted) and the public card."""
        return self.root / "identity"

    @property
    def peers(self) -> Path:
        """One JSON file per registered peer site."""
        return self.root / "peers"

    def outbox(self, peer: str) -> Path:
        """Bundles for ``peer`` kept until it acknowledges them, and the link's state."""
        return self.root / "outbox" / peer

    @property
    def exchange(self) -> Path:
        """What peers reach over SFTP: ``inbox/<peer>/`` for their bundles, ``acks/<peer>.json`` for ours."""
        return self.root / "exchange"

    def inbox(self, peer: str) -> Path:
        """Bundles uploaded by ``peer``."""
        return self.exchange / "inbox" / peer

    def ack_file(self, peer: str) -> Path:
        """The signed acknowledgement of what we imported from ``peer``."""
        return self.exchange / "acks" / f"{peer}.json"

    def receiving(self, peer: str) -> Path:
        """Receiving-side bookkeeping of the link from ``peer`` (gaps, lock)."""
        return self.root / "receiving" / peer

    def quarantine(self, peer: str) -> Path:
        """Bundles from ``peer`` that failed verification; never applied."""
        return self.root / "quarantine" / peer


def site_paths(settings: SiteSettings, base_dir: Path) -> SitePaths:
    """The site folder, relative to the project folder unless absolute."""
    folder = settings.folder if settings.folder.is_absolute() else base_dir / settings.folder
    return SitePaths(folder)
