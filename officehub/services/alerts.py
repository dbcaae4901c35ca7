"""Alerts: every rule of ``alerts:`` judged against the hub store and the project, each incident sent once.

An incident opens when a rule's condition appears for a subject, is sent to the rule's channels, and
closes when the condition clears (then, with ``send_resolved``, a closing message follows). A channel
that does not take a message leaves it unsent for that channel only; the next check tries again, and
the other channels are not held up. Each delivery is audited as ``alert.sent`` with ids and counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from officehub.canonical_model.errors import NotFound, OfficehubError, RetriableError
from officehub.config import Project, load_project
from officehub.config.alert_settings import Rule
from officehub.engine.context import RunContext, as_utc, utc_now
from officehub.services import alert_channels
from officehub.services.alert_channels import ChannelFailure
from officehub.services.alert_conditions import Condition, conditions
from officehub.store import alerts as store
from officehub.store import audit
from officehub.store.hub import HubStore

__all__ = ["ChannelFailure", "CheckReport", "check", "check_project", "incidents", "send_test"]

log = logging.getLogger(__name__)
#: Closing messages still owed are sent for incidents closed this recently (turning ``send_resolved``
#: on does not announce every incident that ever closed).
RESOLVED_WITHIN = timedelta(days=7)
#: How long a check waits for another check of the same hub to finish (each channel's send is bounded
#: by its timeout, at most 60 s).
TURN_WAIT = timedelta(minutes=5)


@dataclass
class CheckReport:
    """What one check did: incidents opened and closed, messages delivered, channels and rules that failed."""

    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    open_incidents: int = 0

    @property
    def ok(self) -> bool:
        """True when every rule was judged and every channel took its messages."""
        return not self.failures and not self.problems

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {"ok": self.ok, "opened": self.opened, "closed": self.closed, "delivered": self.delivered,
                "failures": self.failures, "problems": self.problems, "open_incidents": self.open_incidents}


def check(project: Project, hub: HubStore, actor: str, today: date | None = None) -> CheckReport:
    """Judge every rule, open and close incidents, and send every message owed.

    Checks of one hub take turns: a check that finds another one running waits for it (up to
    :data:`TURN_WAIT`), then finds sent what that one sent. RetriableError if the wait runs out.
    """
    with store.checking_turn(hub.engine, TURN_WAIT.total_seconds()) as mine:
        if not mine:
            raise RetriableError(f"another alert check of this hub has been running for over "
                                 f"{TURN_WAIT.total_seconds():.0f} s; nothing was sent by this one")
        return _check(project, hub, actor, today)


def _check(project: Project, hub: HubStore, actor: str, today: date | None) -> CheckReport:
    report = CheckReport()
    with hub.begin() as conn:
        _update_incidents(RunContext(conn, actor), project, today or utc_now().date(), report)
    settings = project.config.alerts
    since = utc_now() - RESOLVED_WITHIN if settings.send_resolved else None
    with hub.begin() as conn:
        owed = store.unsent(conn, since)
    for incident in owed:
        _deliver(project, hub, actor, incident, report)
    with hub.begin() as conn:
        report.open_incidents = len(store.open_incidents(conn))
    return report


def _update_incidents(ctx: RunContext, project: Project, today: date, report: CheckReport) -> None:
    """Open an incident for each new condition and close those whose condition cleared."""
    found: dict[tuple[str, str], Condition] = {}
    judged: set[str] = set()
    for rule in project.config.alerts.rules:
        try:
            found.update({(rule.id, c.subject): c for c in conditions(ctx, project, rule, today)})
            judged.add(rule.id)
        except OfficehubError as exc:
            report.problems.append(f"rule {rule.id}: {exc.describe()}")
    moment = ctx.clock()
    for incident in store.open_incidents(ctx.conn):
        key = (incident["rule"], incident["subject"])
        if key in found:
            del found[key]  # still open, already recorded
        elif incident["rule"] in judged or project.config.alerts.rule(incident["rule"]) is None:
            store.close_incident(ctx.conn, incident["id"], moment)
            report.closed.append(incident["id"])
    for (rule_id, subject), condition in found.items():
        detail = {"text": condition.text, "figures": condition.figures, "delivered": {"opened": [], "resolved": []}}
        report.opened.append(store.open_incident(ctx.conn, rule_id, subject, detail, moment))


def _deliver(project: Project, hub: HubStore, actor: str, incident: dict[str, Any], report: CheckReport) -> None:
    """Send ``incident``'s owed message to each channel that does not have it yet; record who got it."""
    message = "opened" if incident["sent_at"] is None else "resolved"
    rule = project.config.alerts.rule(incident["rule"])
    detail = incident["detail"]
    had = list(detail["delivered"][message])
    now_sent: list[str] = []
    # A rule no longer configured owes nothing: its incidents were closed, and no channel is named.
    text, body = _message(project, rule, incident, message) if rule is not None else ("", {})
    for name in [] if rule is None else [n for n in rule.channels if n not in had]:
        try:
            _send(project, name, text, body)
        except OfficehubError as exc:
            problem = exc.problem if isinstance(exc, ChannelFailure) else exc.describe()
            report.failures.append({"incident": incident["id"], "channel": name, "message": message,
                                    "problem": problem})
            continue
        now_sent.append(name)
        report.delivered.append({"incident": incident["id"], "channel": name, "message": message})
    detail = {**detail, "delivered": {**detail["delivered"], message: had + now_sent}}
    with hub.begin() as conn:
        store.update_detail(conn, incident["id"], detail)
        if rule is None or set(rule.channels) <= set(had + now_sent):
            store.mark_sent(conn, incident["id"], message, utc_now())
        if now_sent:
            audit.append(conn, actor=actor, action="alert.sent", subject=f"alert incident {incident['id']}",
                         detail={"rule": incident["rule"], "message": message, "channels": now_sent})


def _send(project: Project, name: str, subject: str, body: dict[str, Any]) -> None:
    channel = project.config.alerts.channels[name]
    alert_channels.send(name, channel, subject, body, project.base_dir)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).isoformat(timespec="seconds")


def _message(project: Project, rule: Rule, incident: dict[str, Any], message: str) -> tuple[str, dict[str, Any]]:
    """The one-line text and the JSON body of ``incident``'s ``opened`` or ``resolved`` message."""
    detail = incident["detail"]
    if message == "opened":
        text = f"[officehub {project.name}] {rule.id}: {detail['text']}"
    else:
        text = f"[officehub {project.name}] resolved {rule.id}: {incident['subject']} is back to normal"
    body = {"hub": project.name, "incident": incident["id"], "state": message, "rule": rule.id, "kind": rule.kind,
            "subject": incident["subject"], "text": text, "opened_at": _iso(incident["opened_at"]),
            "closed_at": _iso(incident["closed_at"]), "figures": detail["figures"]}
    return text, body


def check_project(config_path: str | Path) -> dict[str, Any]:
    """Check the alerts of the project at ``config_path`` as a scheduled task does: the report's figures, or
    RetriableError when a channel or a rule failed (the messages it owes are sent at the next check)."""
    # Imported here: listing incidents must not load the sync engine.
    from officehub.engine import open_store

    project = load_project(config_path)
    hub = open_store(project)
    try:
        report = check(project, hub, "officehub (alerts)")
    finally:
        hub.close()
    log.info("officehub alerts: opened=%d closed=%d sent=%d open=%d", len(report.opened), len(report.closed),
             len(report.delivered), report.open_incidents)
    if not report.ok:
        problems = [f"channel {f['channel']}: {f['problem']}" for f in report.failures] + report.problems
        raise RetriableError(f"alerts not all sent: {'; '.join(problems)}")
    return report.as_dict()


def send_test(project: Project, name: str) -> None:
    """Send a test message through channel ``name``; ChannelFailure when it does not take it."""
    channels = project.config.alerts.channels
    if name not in channels:
        raise NotFound(f"no alert channel '{name}' (configured: {', '.join(channels) or 'none'})")
    text = f"[officehub {project.name}] test message: this channel receives the hub's alerts"
    _send(project, name, text, {"hub": project.name, "incident": None, "state": "test", "rule": None,
                                "kind": "test", "subject": f"channel {name}", "text": text,
                                "opened_at": _iso(utc_now()), "closed_at": None, "figures": {}})


def incidents(ctx: RunContext, *, open_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    """The newest incidents (open ones only, when asked), newest first, with their text and figures."""
    rows = store.incidents(ctx.conn, open_only=open_only, limit=limit)
    return [{"id": r["id"], "rule": r["rule"], "subject": r["subject"], "state": "open" if r["closed_at"] is None
             else "closed", "opened_at": _iso(r["opened_at"]), "closed_at": _iso(r["closed_at"]),
             "sent_at": _iso(r["sent_at"]), "resolved_sent_at": _iso(r["resolved_sent_at"]),
             "text": r["detail"]["text"], "figures": r["detail"]["figures"]} for r in rows]
