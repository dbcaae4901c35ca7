"""What every request of one server process shares: the project, its hub store, the session signer, limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.templating import Jinja2Templates

from officehub.config import Project
from officehub.serve.limits import AttemptLimiter
from officehub.serve.sessions import Sessions
from officehub.services import session_keys
from officehub.services.hub_api import Plans
from officehub.services.hub_api_match import Matchers
from officehub.store.hub import HubStore

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@dataclass
class Hub:
    """One project served by one process."""

    project: Project
    store: HubStore
    sessions: Sessions
    logins: AttemptLimiter
    plans: Plans
    matchers: Matchers
    templates: Jinja2Templates = field(default_factory=lambda: Jinja2Templates(directory=str(TEMPLATES)))
    debug: bool = False

    @classmethod
    def open(cls, project: Project, store: HubStore, *, debug: bool = False) -> Hub:
        """The served state of ``project`` on ``store``: the session key from the configuration or the store."""
        settings = project.config.serve
        key = (settings.session_key.resolve(project.base_dir).get_secret_value() if settings.session_key
               else session_keys.stored_key(store))
        return cls(project, store, Sessions(key, settings.session_hours * 3600),
                   AttemptLimiter(settings.login_attempts_per_minute), Plans(project), Matchers(project),
                   debug=debug)
