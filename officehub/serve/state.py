"""What every request of one server process shares: the project, its hub store, the session signer, limits."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from fastapi.templating import Jinja2Templates

from officehub.config import Project, load_project
from officehub.serve.batching import AuditWriter, Batcher, ReadTurns
from officehub.serve.limits import AttemptLimiter
from officehub.serve.sessions import Sessions
from officehub.services import audit_trail, policy_changes, session_keys
from officehub.services.api_tokens import Holders
from officehub.services.hub_api import Plans
from officehub.services.hub_api_match import Matchers
from officehub.store.hub import HubStore

#: How often a process looks for a policy change another process approved.
RELOAD_CHECK_SECONDS = 5.0
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
    #: Signs session cookies (and, under salts of their own, other cookies of the console).
    session_key: str = field(default="", repr=False)
    templates: Jinja2Templates = field(default_factory=lambda: Jinja2Templates(directory=str(TEMPLATES)))
    debug: bool = False
    #: The newest approved policy change this process has loaded, and when it last looked.
    loaded_change: int | None = None
    checked_at: float = 0.0
    _reloading: threading.Lock = field(default_factory=threading.Lock)
    #: API tokens looked up in the last few seconds (a revocation takes effect here within them).
    tokens: Holders = field(default_factory=Holders)
    #: Concurrent lookups by id gathered into one audited transaction each.
    batcher: Batcher = field(default_factory=Batcher)
    #: The audit entries of concurrent reads, appended together.
    audits: AuditWriter = field(init=False)
    #: Reads that compute much (searches, the changes feed) taken in turns.
    turns: ReadTurns = field(default_factory=ReadTurns)

    def __post_init__(self) -> None:
        self.audits = AuditWriter(self.batcher, partial(audit_trail.append_entries, self.store))

    def reload(self) -> None:
        """Load the project again (a policy change took effect): new plans and matchers from now on."""
        with self._reloading:
            project = load_project(self.project.base_dir)
            self.project, self.plans, self.matchers = project, Plans(project), Matchers(project)
            self.loaded_change = policy_changes.last_approved(self.store)
            self.checked_at = time.monotonic()

    def fresh(self) -> None:
        """Reload when another process approved a policy change (looked for every few seconds)."""
        if time.monotonic() - self.checked_at < RELOAD_CHECK_SECONDS:
            return
        self.checked_at = time.monotonic()
        if policy_changes.last_approved(self.store) != self.loaded_change:
            self.reload()

    @classmethod
    def open(cls, project: Project, store: HubStore, *, debug: bool = False) -> Hub:
        """The served state of ``project`` on ``store``: the session key from the configuration or the store."""
        settings = project.config.serve
        key = (settings.session_key.resolve(project.base_dir).get_secret_value() if settings.session_key
               else session_keys.stored_key(store))
        return cls(project, store, Sessions(key, settings.session_hours * 3600),
                   AttemptLimiter(settings.login_attempts_per_minute), Plans(project), Matchers(project),
                   session_key=key, debug=debug, loaded_change=policy_changes.last_approved(store), checked_at=time.monotonic())
