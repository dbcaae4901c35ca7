"""The hub's Prometheus metrics, read from the hub store (and the site folders) each time they are asked for.

Nothing is counted in process memory: every server process, every CLI run and every Airflow task that
answers gives the same figures, those of the whole hub store. A scrape is a handful of aggregate
queries (:mod:`officehub.store.run_figures`); labels name pipelines, kinds, outcomes, sites,
agreements, entities and field paths, never a value.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from officehub.config import Project
from officehub.services import site_status
from officehub.store import run_figures as rf
from officehub.store.hub import HubStore

log = logging.getLogger(__name__)

_PIPELINE = ["pipeline", "kind"]
_R = TypeVar("_R")


class SourceDown(Exception):
    """A source of figures that cannot be read now, with why (a message that names no value)."""


class HubCollector(Collector):
    """A custom collector: each ``collect()`` reads the hub's figures afresh."""

    def __init__(self, project: Project, store: HubStore) -> None:
        self.project, self.store = project, store
        self._lasts: list[rf.LastRun] | None = None

    def describe(self) -> Iterable[Metric]:
        """Nothing: registering must not read the store (the figures are read at each collect)."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Every family; a source that cannot be read is reported down and left out, not raised."""
        started = time.perf_counter()
        self._lasts = None
        up = GaugeMetricFamily("officehub_metrics_source_up", "Whether the figures of a source could be read "
                               "at this scrape (1) or not (0).", labels=["source"])
        sources: list[tuple[str, Callable[[], list[Metric]]]] = [
            ("runs", self._runs), ("publish", self._withheld), ("quarantine", self._quarantine),
            ("reviews", self._reviews), ("sites", self._sites), ("agreements", self._agreements)]
        for name, read in sources:
            try:
                families = read()
            except SourceDown as exc:
                log.warning("metrics: %s not read: %s", name, exc)
                up.add_metric([name], 0)
                continue
            except Exception as exc:  # noqa: BLE001 - a broken source must not take the others down
                # The class only: a driver's message may quote a statement's parameters.
                log.warning("metrics: %s not read (%s)", name, type(exc).__name__)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up
        yield GaugeMetricFamily("officehub_metrics_scrape_duration_seconds", "How long reading these figures took.",
                                value=time.perf_counter() - started)

    def _read(self, query: Callable[[sa.Connection], _R]) -> _R:
        with self.store.begin() as conn:
            return query(conn)

    def _runs(self) -> list[Metric]:
        groups = self._read(rf.run_groups)
        lasts = self._read(lambda conn: rf.last_runs(conn, groups))
        self._lasts = lasts  # the withheld counts that follow are those of these runs
        return [*_run_totals(groups), *_run_outcomes(groups), *_last_runs(lasts, groups)]

    def _withheld(self) -> list[Metric]:
        # Configured publishes only: each costs a few look-ups, and a pipeline long gone is no one's concern.
        configured = {name for name, p in self.project.config.pipelines.items() if p.kind == "publish"}
        if self._lasts is None:
            raise SourceDown("the runs could not be read")
        publishes = [r for r in self._lasts if r.pipeline in configured]
        counts = self._read(lambda conn: rf.withheld_by_field(conn, publishes))
        family = GaugeMetricFamily("officehub_publish_last_run_values_withheld", "Values a publish pipeline's "
                                   "last finished run withheld or transformed, by field path and policy action.",
                                   labels=["pipeline", "entity", "field", "action"])
        for run in sorted(publishes, key=lambda r: r.pipeline):
            for (path, action), count in sorted(counts[run.run_id].items()):
                family.add_metric([run.pipeline, self._entity(run.pipeline), path, action], count)
        return [family]

    def _entity(self, pipeline: str) -> str:
        config = self.project.config.pipelines.get(pipeline)
        mapping = self.project.config.mappings.get(config.mapping) if config else None
        return mapping.target.split(".")[0] if mapping else ""

    def _quarantine(self) -> list[Metric]:
        waiting = {**dict.fromkeys(self.project.config.pipelines, 0), **self._read(rf.open_quarantine)}
        family = GaugeMetricFamily("officehub_quarantine_open_records", "Quarantined records waiting for a fix or "
                                   "a replay, per pipeline.", labels=["pipeline"])
        for pipeline, count in sorted(waiting.items()):
            family.add_metric([pipeline], count)
        return [family]

    def _reviews(self) -> list[Metric]:
        family = GaugeMetricFamily("officehub_review_queue_pairs", "Pairs of records waiting in the match review "
                                   "queue for a data steward, per entity.", labels=["entity"])
        for entity, count in sorted(self._read(rf.pending_reviews).items()):
            family.add_metric([entity], count)
        return [family]

    def _sites(self) -> list[Metric]:
        return _site_links(site_status.overview(self.project))

    def _agreements(self) -> list[Metric]:
        today = datetime.now(UTC).date()
        days = GaugeMetricFamily("officehub_agreement_days_left", "Days until a data-sharing agreement ends "
                                 "(negative once it has ended); open-ended agreements have none.",
                                 labels=["agreement", "destination"])
        in_force = GaugeMetricFamily("officehub_agreement_in_force", "Whether a data-sharing agreement is in force "
                                     "today (1) or not (0).", labels=["agreement", "destination"])
        for agreement in self.project.policies.agreements:
            labels = [agreement.id, agreement.destination]
            in_force.add_metric(labels, int(agreement.in_force(today)))
            if agreement.valid_until is not None:
                days.add_metric(labels, (agreement.valid_until - today).days)
        return [days, in_force]


def _run_totals(groups: list[rf.RunGroup]) -> list[Metric]:
    summed: dict[tuple[str, str], dict[str, int]] = {}
    for g in groups:
        into = summed.setdefault((g.pipeline, g.kind), dict.fromkeys(rf.RUN_FIGURES, 0))
        for name, value in g.figures.items():
            into[name] += value
    families: list[Metric] = []
    for figure in rf.RUN_FIGURES:
        noun, verb = figure.split("_", 1)
        family = CounterMetricFamily(f"officehub_pipeline_{figure}", f"{noun.capitalize()} {verb} by a pipeline's "
                                     "runs, summed over all of them.", labels=_PIPELINE)
        for (pipeline, kind), figures in sorted(summed.items()):
            family.add_metric([pipeline, kind], figures[figure])
        families.append(family)
    return families


def _run_outcomes(groups: list[rf.RunGroup]) -> list[Metric]:
    runs = CounterMetricFamily("officehub_pipeline_runs", "Finished runs of a pipeline, by outcome.",
                               labels=[*_PIPELINE, "outcome"])
    running = GaugeMetricFamily("officehub_pipeline_runs_running", "Runs of a pipeline under way now.",
                                labels=_PIPELINE)
    for g in sorted(groups, key=lambda g: (g.pipeline, g.status)):
        if g.status == "running":
            running.add_metric([g.pipeline, g.kind], g.runs)
        else:
            runs.add_metric([g.pipeline, g.kind, g.status], g.runs)
    return [runs, running]


def _last_runs(lasts: list[rf.LastRun], groups: list[rf.RunGroup]) -> list[Metric]:
    successes = {g.pipeline: rf.utc(g.last_finished_at) for g in groups
                 if g.status == "succeeded" and g.last_finished_at is not None}
    duration = GaugeMetricFamily("officehub_pipeline_last_run_duration_seconds", "How long a pipeline's last "
                                 "finished run took.", labels=_PIPELINE)
    success = GaugeMetricFamily("officehub_pipeline_last_run_success", "Whether a pipeline's last finished run "
                                "succeeded (1) or not (0).", labels=_PIPELINE)
    ended = GaugeMetricFamily("officehub_pipeline_last_run_timestamp_seconds", "When a pipeline's last finished "
                              "run ended (Unix time).", labels=_PIPELINE)
    succeeded = GaugeMetricFamily("officehub_pipeline_last_success_timestamp_seconds", "When a pipeline's last "
                                  "successful run ended (Unix time).", labels=_PIPELINE)
    for run in sorted(lasts, key=lambda r: r.pipeline):
        labels = [run.pipeline, run.kind]
        success.add_metric(labels, int(run.status == "succeeded"))
        if run.seconds is not None and run.finished_at is not None:
            duration.add_metric(labels, run.seconds)
            ended.add_metric(labels, rf.utc(run.finished_at).timestamp())
        if run.pipeline in successes:
            succeeded.add_metric(labels, successes[run.pipeline].timestamp())
    return [duration, success, ended, succeeded]


def _site_links(overview: site_status.SiteOverview) -> list[Metric]:
    if overview.problem:
        raise SourceDown(overview.problem)
    names = {
        "lag_seconds": "Age of the oldest bundle sent to a peer site and not yet acknowledged.",
        "bundles_waiting": "Bundles sent to a peer site and not yet acknowledged.",
        "bytes_waiting": "Bytes of the bundles waiting for a peer site's acknowledgement.",
        "gap_age_seconds": "How long the oldest gap in what a peer site sent has waited (0 when none).",
        "gaps": "Streams from a peer site with a bundle missing before ones received.",
        "inbox_bundles": "Bundles from a peer site received and not yet imported.",
        "quarantined_bundles": "Bundles from a peer site set aside as unreadable or untrusted.",
    }
    families = {key: GaugeMetricFamily(f"officehub_site_{key}", text, labels=["site"]) for key, text in names.items()}
    exchanged = GaugeMetricFamily("officehub_site_last_exchange_age_seconds", "Seconds since the last exchange "
                                  "with a peer site (none before the first).", labels=["site"])
    for link in overview.links:
        gap_ages = [float(g["for_s"]) for g in link.gaps.values()]
        values = {"lag_seconds": link.lag_s, "bundles_waiting": link.bundles_waiting,
                  "bytes_waiting": link.bytes_waiting, "gap_age_seconds": max(gap_ages, default=0.0),
                  "gaps": len(gap_ages), "inbox_bundles": link.inbox_waiting,
                  "quarantined_bundles": link.quarantined_bundles}
        for key, value in values.items():
            families[key].add_metric([link.peer], value)
        if link.last_exchange_age_s is not None:
            exchanged.add_metric([link.peer], link.last_exchange_age_s)
    return [*families.values(), exchanged]


def registry(project: Project, store: HubStore) -> CollectorRegistry:
    """A registry holding only the hub's collector (no process figures: they would differ between workers)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(project, store))
    return registry


def exposition(project: Project, store: HubStore) -> bytes:
    """The hub's metrics in Prometheus' text format."""
    return generate_latest(registry(project, store))
