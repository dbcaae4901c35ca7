"""What each kind of alert rule finds wrong now: one :class:`Condition` per subject in trouble.

A condition carries a short text and figures (ids, counts, dates, quarantine reasons as the hub stores
them, which name fields and never values); it never carries a record value or a secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from officehub.config import Project
from officehub.config.alert_settings import (
    AgreementEndingRule,
    AuditVerifyRule,
    QuarantineFractionRule,
    RowCountRule,
    Rule,
    RunFailedRule,
    SiteLagRule,
)
from officehub.engine.context import RunContext
from officehub.services import site_status
from officehub.store import alerts as store
from officehub.store import audit
from officehub.store import bookkeeping as bk

#: Quarantine reasons an alert lists, most frequent first.
TOP_REASONS = 5
#: The longest run error an alert quotes (run errors name pipelines, fields and counts, never values).
MAX_ERROR = 300


@dataclass(frozen=True)
class Condition:
    """One subject in trouble under one rule: what it is, a one-line text, and its figures."""

    subject: str
    text: str
    figures: dict[str, Any] = field(default_factory=dict)


def conditions(ctx: RunContext, project: Project, rule: Rule, today: date) -> list[Condition]:
    """The subjects ``rule`` finds in trouble now."""
    if isinstance(rule, RunFailedRule):
        return list(_failed_runs(ctx, project, rule))
    if isinstance(rule, QuarantineFractionRule):
        return list(_quarantine_fractions(ctx, project, rule))
    if isinstance(rule, RowCountRule):
        return list(_row_counts(ctx, project, rule))
    if isinstance(rule, AgreementEndingRule):
        return list(_agreements_ending(project, rule, today))
    if isinstance(rule, SiteLagRule):
        return list(_site_links(project, rule))
    return list(_audit_trail(ctx, project, rule))


def _pipelines(project: Project, wanted: list[str] | None, kind: str | None = None) -> list[str]:
    return [name for name, config in project.config.pipelines.items()
            if (wanted is None or name in wanted) and (kind is None or config.kind == kind)]


def _run_figures(ctx: RunContext, run: dict[str, Any]) -> dict[str, Any]:
    """A run's id and counts, and its most frequent quarantine reasons."""
    reasons = bk.top_reasons(ctx.conn, run["id"], limit=TOP_REASONS) if run["records_quarantined"] else []
    return {"run_id": run["id"], "records_read": run["records_read"], "records_written": run["records_written"],
            "records_quarantined": run["records_quarantined"],
            "top_reasons": [{"reason": reason, "count": count} for reason, count in reasons]}


def _each_latest(ctx: RunContext, names: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name in names:
        runs = store.finished_runs(ctx.conn, name, 1)
        if runs:
            yield name, runs[0]


def _failed_runs(ctx: RunContext, project: Project, rule: RunFailedRule) -> Iterator[Condition]:
    for name, run in _each_latest(ctx, _pipelines(project, rule.pipelines)):
        if run["status"] == "failed":
            error = (run["error"] or "no reason recorded").splitlines()[0][:MAX_ERROR]
            yield Condition(f"pipeline {name}", f"run {run['id']} of pipeline {name} failed: {error}",
                            {**_run_figures(ctx, run), "error": error})


def _quarantine_fractions(ctx: RunContext, project: Project, rule: QuarantineFractionRule) -> Iterator[Condition]:
    for name, run in _each_latest(ctx, _pipelines(project, rule.pipelines)):
        read, quarantined = run["records_read"], run["records_quarantined"]
        if read >= rule.min_records and quarantined / read > rule.threshold:
            yield Condition(f"pipeline {name}",
                            f"run {run['id']} of pipeline {name} quarantined {quarantined} of {read} records read "
                            f"({quarantined / read:.0%}, more than {rule.threshold:.0%})",
                            {**_run_figures(ctx, run), "fraction": round(quarantined / read, 4),
                             "threshold": rule.threshold})


def usual_range(counts: list[int], tolerance: float) -> tuple[float, float]:
    """The range of record counts that is usual after runs that read ``counts``: from the smallest less
    ``tolerance`` of it to the largest plus ``tolerance`` of it."""
    return min(counts) * (1 - tolerance), max(counts) * (1 + tolerance)


def _row_counts(ctx: RunContext, project: Project, rule: RowCountRule) -> Iterator[Condition]:
    for name in _pipelines(project, rule.pipelines, kind="ingest"):
        runs = store.finished_runs(ctx.conn, name, rule.history + 1, status="succeeded")
        if len(runs) <= rule.min_history:
            continue
        latest, earlier = runs[0], runs[1:]
        low, high = usual_range([run["records_read"] for run in earlier], rule.tolerance)
        read = latest["records_read"]
        if not low <= read <= high:
            yield Condition(f"pipeline {name}",
                            f"run {latest['id']} of pipeline {name} read {read} records; the usual range after "
                            f"its last {len(earlier)} successful runs is {low:g}–{high:g}",
                            {**_run_figures(ctx, latest), "usual_low": low, "usual_high": high,
                             "runs_compared": len(earlier)})


def _agreements_ending(project: Project, rule: AgreementEndingRule, today: date) -> Iterator[Condition]:
    for agreement in project.policies.agreements:
        if agreement.valid_until is None or (rule.agreements is not None and agreement.id not in rule.agreements):
            continue
        days_left = (agreement.valid_until - today).days
        if days_left <= rule.days:
            when = f"ended on {agreement.valid_until}" if days_left < 0 else \
                f"ends on {agreement.valid_until} ({days_left} day(s) left)"
            yield Condition(f"agreement {agreement.id}",
                            f"agreement {agreement.id} with {agreement.destination} {when}; renew it, or nothing "
                            f"is sent to {agreement.destination} under it",
                            {"agreement": agreement.id, "destination": agreement.destination,
                             "valid_until": agreement.valid_until.isoformat(), "days_left": days_left})


def _site_links(project: Project, rule: SiteLagRule) -> Iterator[Condition]:
    found = site_status.overview(project)
    if not found.configured:
        return
    if found.problem is not None:
        yield Condition("site links", f"the site links cannot be read: {found.problem}", {})
    for link in found.links:
        if rule.sites is not None and link.peer not in rule.sites:
            continue
        lagging = link.lag_s > rule.minutes * 60
        if lagging or link.gaps:
            what = [f"bundles waiting {link.lag_s / 60:.0f} min" if lagging else "",
                    f"gaps in {', '.join(sorted(link.gaps))}" if link.gaps else ""]
            yield Condition(f"site {link.peer}", f"the link with site {link.peer}: {'; '.join(w for w in what if w)}",
                            {"peer": link.peer, "lag_s": link.lag_s, "bundles_waiting": link.bundles_waiting,
                             "last_sent": link.last_sent, "last_acked": link.last_acked,
                             "gapped_streams": sorted(link.gaps)})


def _audit_trail(ctx: RunContext, project: Project, rule: AuditVerifyRule) -> Iterator[Condition]:
    result = audit.verify(ctx.conn, project.audit_keys)
    if not result.ok:
        where = f" at entry {result.broken_at}" if result.broken_at is not None else ""
        yield Condition("audit trail", f"the audit trail does not verify{where}: {result.problem}",
                        {"entries": result.entries, "broken_at": result.broken_at, "problem": result.problem})

