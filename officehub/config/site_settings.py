"""The ``sites:`` section of officehub.yaml: this hub as one site of several, and how its keys are unlocked."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from officehub.canonical_model.errors import FatalError
from officehub.config.yaml_source import Positions, YamlError, load_yaml
from officehub.connectors.secrets import SecretRef

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


def load_settings(base_dir: Path) -> SiteSettings:
    """The ``sites:`` section of the project's officehub.yaml (defaults if absent).

    Read directly, not through ``load_project``: a connector gets only the project folder,
    and ``sites:`` may not be set in an included file, so officehub.yaml alone is exact.
    """
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
