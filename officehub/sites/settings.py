"""Where this site keeps its keys, peers, outbox and exchange folder, and how its keys are unlocked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from canonical_model.errors import FatalError
from connectors.secrets import SecretRef

#: The env var that holds the passphrase of the site's private keys unless ``sites.passphrase`` says otherwise.
DEFAULT_PASSPHRASE_ENV = "OFFICEHUB_SITE_PASSPHRASE"


class SiteSettings(BaseModel):
    """The ``sites:`` section of officehub.yaml: this hub as one site of several."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]*$",
                             description="this site's name; also the Celery queue its exchange tasks run on")
    folder: Path = Field(Path(".officehub/site"), description="keys, peers, outbox and the exchange folder")
    passphrase: SecretRef = Field(SecretRef(env=DEFAULT_PASSPHRASE_ENV),
                                  description="unlocks the site's private keys, by reference")


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


def load_settings(base_dir: Path) -> SiteSettings:
    """The ``sites:`` section of the project's officehub.yaml (defaults if absent).

    Read directly, not through ``load_project``: a connector gets only the project folder,
    and ``sites:`` may not be set in an included file, so officehub.yaml alone is exact.
    """
    # Imported here: officehub.config imports this module (see the package docstring).
    from officehub.config.yaml_source import Positions, YamlError, load_yaml

    path = base_dir / "officehub.yaml"
    try:
        raw = load_yaml(path, Positions(), "officehub.yaml") if path.is_file() else {}
    except YamlError as exc:
        raise FatalError(f"{exc.file}:{exc.line}: {exc.problem}" if exc.line else f"{exc.file}: {exc.problem}") \
            from None
    try:
        return SiteSettings.model_validate((raw or {}).get("sites") or {})
    except ValidationError as exc:
        raise FatalError(f"officehub.yaml: sites: {exc.errors(include_input=False)[0]['msg']}") from None
