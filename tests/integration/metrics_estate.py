"""The sentinel estate with its hub store where a test wants it, synced, and the figures its metrics must show,
read from the hub store by plain SQL (independently of :mod:`officehub.store.run_figures`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from prometheus_client.parser import text_string_to_metric_families

from officehub.config import load_project
from officehub.engine import sync
from tests.integration import sentinel_estate
from tests.integration.served import in_hub

#: Every agreement of the sentinel estate ends on this day.
AGREEMENTS_END = date(2030, 12, 31)


def build(folder: Path, store_url: str, **sections: dict[str, Any]) -> Path:
    """The sentinel estate in ``folder`` with its hub store at ``store_url``; ``hub``/``serve`` keys are merged."""
    sentinel_estate.build(folder)
    path = folder / "officehub.yaml"
    config = yaml.safe_load(path.read_text())
    config["hub"]["store"] = store_url
    for name, values in sections.items():
        config.setdefault(name, {}).update(values)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def synced(folder: Path) -> list[str]:
    """Run every pipeline in-process; returns their statuses."""
    project = load_project(folder)
    return [r.status for r in sync(project, project.pipelines_in_order())]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and sorted labels (parsed by the client's parser)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def by_label(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, label: str) -> dict[str, float]:
    """The samples of metric ``name``, by the value of one label."""
    return {dict(labels)[label]: value for (n, labels), value in found.items() if n == name}


def store_figures(folder: Path) -> dict[str, Any]:
    """What the metrics must say, read from the hub store directly."""
    def read(conn: sa.Connection) -> dict[str, Any]:
        def pairs(sql: str) -> dict[str, float]:
            return {str(k): float(v) for k, v in conn.execute(sa.text(sql))}
        last = pairs("SELECT pipeline, max(id) FROM run WHERE kind = 'publish' AND status <> 'running' "
                     "GROUP BY pipeline")
        withheld: dict[tuple[str, str, str], float] = {}
        for pipeline, run_id in last.items():
            for (detail,) in conn.execute(sa.text("SELECT detail FROM audit WHERE action = 'publish' AND run_id = :r"),
                                          {"r": int(run_id)}):
                fields = (detail if isinstance(detail, dict) else json.loads(detail))["fields"]
                for path, actions in fields.items():
                    for action, count in actions.items():
                        key = (pipeline, path, action)
                        withheld[key] = withheld.get(key, 0) + count
        return {
            "read": pairs("SELECT pipeline, sum(records_read) FROM run GROUP BY pipeline"),
            "written": pairs("SELECT pipeline, sum(records_written) FROM run GROUP BY pipeline"),
            "quarantined": pairs("SELECT pipeline, sum(records_quarantined) FROM run GROUP BY pipeline"),
            "runs": pairs("SELECT pipeline, count(*) FROM run WHERE status = 'succeeded' GROUP BY pipeline"),
            "open": pairs("SELECT pipeline, count(*) FROM quarantine WHERE status = 'open' GROUP BY pipeline"),
            "reviews": pairs("SELECT entity, count(*) FROM match_review WHERE status = 'pending' GROUP BY entity"),
            "withheld": withheld,
        }
    return dict(in_hub(folder, read))


def assert_figures_match(text: str, folder: Path) -> None:
    """The metrics in ``text`` say what the hub store of the project in ``folder`` holds."""
    found, expected = samples(text), store_figures(folder)
    assert by_label(found, "officehub_pipeline_records_read_total", "pipeline") == expected["read"]
    assert by_label(found, "officehub_pipeline_records_written_total", "pipeline") == expected["written"]
    assert by_label(found, "officehub_pipeline_records_quarantined_total", "pipeline") == expected["quarantined"]
    assert by_label(found, "officehub_pipeline_runs_total", "pipeline") == expected["runs"]
    open_entries = by_label(found, "officehub_quarantine_open_records", "pipeline")
    assert {p: n for p, n in open_entries.items() if n} == expected["open"] and expected["open"]
    assert by_label(found, "officehub_review_queue_pairs", "entity") == expected["reviews"] == {"employee": 1.0}
    days = (AGREEMENTS_END - datetime.now(UTC).date()).days
    assert by_label(found, "officehub_agreement_days_left", "agreement") == {"payroll-2026": days,
                                                                            "reporting-2026": days}
    withheld = {(dict(labels)["pipeline"], dict(labels)["field"], dict(labels)["action"]): value
                for (name, labels), value in found.items() if name == "officehub_publish_last_run_values_withheld"}
    assert withheld == expected["withheld"] and withheld[("payroll_out", "occupational_health_restrictions", "drop")]
    assert all(v == 1 for v in by_label(found, "officehub_metrics_source_up", "source").values())


def leaks(text: str) -> list[str]:
    """The sentinels of special-category values found in ``text``."""
    return [s for s in sentinel_estate.SENTINELS if s in text]
