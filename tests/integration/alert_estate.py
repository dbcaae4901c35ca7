"""A small estate for alert tests: staff CSV files dropped in a folder and read into the hub, a
reporting database with a data-sharing agreement, and an ``alerts:`` section pointing at test servers."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from officehub.config import load_project
from officehub.engine import sync
from officehub.services import alerts
from officehub.store.hub import HubStore

ACTOR = "user:alerts-test"


def write_staff(folder: Path, name: str, rows: int, *, bad: int = 0, start: int = 1) -> None:
    """A staff file of ``rows`` rows, the first ``bad`` of them with a hire date in the wrong layout."""
    lines = ["id,last,hired"]
    for n in range(start, start + rows):
        hired = "15.03.2020" if n - start < bad else "2020-03-15"
        lines.append(f"{n},Koval{n},{hired}")
    (folder / "drop" / f"staff_{name}.csv").write_text("\n".join(lines) + "\n")


def write_agreement(folder: Path, valid_until: date) -> None:
    """The reporting agreement, valid until ``valid_until``."""
    document = {"name": "reporting-sharing", "agreements": [{
        "id": "reporting-2026", "destination": "reporting", "purpose": "management reporting",
        "legal_basis": "GDPR Art. 6(1)(f) legitimate interest", "valid_from": "2026-01-01",
        "valid_until": valid_until.isoformat()}], "rules": []}
    (folder / "policies" / "reporting.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def build(folder: Path, store_url: str, alerts_section: dict[str, Any]) -> Path:
    """The estate in ``folder`` with its hub store at ``store_url``; returns the folder."""
    (folder / "drop").mkdir(parents=True)
    (folder / "policies").mkdir()
    write_agreement(folder, date.today() + timedelta(days=365))
    config = {
        "hub": {"name": "branch", "store": store_url},
        "systems": {"hr": {"type": "files", "path": "drop", "streams": {"staff": {"pattern": "staff_*.csv"}}},
                    "reporting": {"type": "sql", "url": "sqlite:///out/reporting.db"}},
        "mappings": {
            "hr_staff": {"system": "hr", "stream": "staff", "target": "employee", "key": "id",
                         "fields": {"employee_number": "id", "name.last": "last",
                                    "employment.hire_date": {"from": "hired", "transforms": [{"date": "%Y-%m-%d"}]}}},
            "reporting_staff": {"system": "reporting", "stream": "employees", "target": "employee", "key": "hub_id",
                                "fields": {"canonical_id": "hub_id", "employee_number": "employee_number"}}},
        "pipelines": {"staff_in": {"kind": "ingest", "mapping": "hr_staff"},
                      "staff_out": {"kind": "publish", "mapping": "reporting_staff",
                                    "purpose": "management reporting"}},
        "policies": ["policies/*.yaml"],
        "alerts": alerts_section,
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def run(folder: Path, *pipelines: str) -> list[str]:
    """Run ``pipelines`` in-process (no alert check); returns their statuses."""
    project = load_project(folder)
    return [r.status for r in sync(project, list(pipelines))]


def check(folder: Path, today: date | None = None) -> alerts.CheckReport:
    """One alert check of the project in ``folder``, in-process."""
    project = load_project(folder)
    hub = project.config.hub
    store = HubStore.open(hub.store, project.base_dir, password=hub.store_password)
    try:
        return alerts.check(project, store, ACTOR, today)
    finally:
        store.close()


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the hub store at ``url``."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()
