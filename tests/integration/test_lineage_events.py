"""OpenLineage run events of real runs on the sentinel estate, received by an HTTP endpoint on loopback: START
and COMPLETE of an ingest and a publish with their datasets and facets (SQLite and PostgreSQL hub stores),
FAIL with the hub's one-line error, the Airflow task as parent run, and an endpoint that is down or never
answers — with no special-category value in any event or log line."""

from __future__ import annotations

import logging
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from officehub.config import load_project
from officehub.engine import lineage, sync
from officehub.store import audit
from officehub.store.hub import HubStore
from tests.integration import sentinel_estate
from tests.integration.http_receiver import receiver
from tests.integration.served import free_port

API_KEY = "lineage-api-key-5521"
PRODUCER = "https://github.com/officehub/officehub"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The hub store: a SQLite file in the project, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite:///.officehub/hub.db"
    return str(request.getfixturevalue("postgres_url"))


def estate(folder: Path, lineage_settings: dict[str, Any], store: str = "sqlite:///.officehub/hub.db") -> Path:
    """The sentinel estate with ``lineage:`` set and its hub store at ``store``."""
    sentinel_estate.build(folder)
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["hub"]["store"] = store
    config["lineage"] = lineage_settings
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def leaks(text: str) -> list[str]:
    """The sentinels found in ``text``."""
    return [s for s in sentinel_estate.SENTINELS if s in text]


def by_run(events: list[dict]) -> dict[str, list[dict]]:
    """Events by job name, in the order received."""
    grouped: dict[str, list[dict]] = {}
    for event in events:
        grouped.setdefault(event["job"]["name"], []).append(event)
    return grouped


def test_an_ingest_and_a_publish_send_start_and_complete_with_their_datasets_and_facets(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    monkeypatch.setenv("LINEAGE_KEY", API_KEY)
    caplog.set_level(logging.DEBUG)
    with receiver() as backend:
        folder = estate(tmp_path / "estate", {"url": backend.url, "namespace": "sentinel-hub",
                                              "api_key": {"env": "LINEAGE_KEY"}}, store_url)
        project = load_project(folder)
        ingest, publish = sync(project, ["hr_employees_in", "payroll_out"])
    assert (ingest.status, publish.status) == ("succeeded", "succeeded")
    assert {post.path for post in backend.posts} == {"/api/v1/lineage"}
    assert {post.headers["authorization"] for post in backend.posts} == {f"Bearer {API_KEY}"}
    events = by_run([post.json() for post in backend.posts])
    assert {name: [e["eventType"] for e in runs] for name, runs in events.items()} == {
        "hr_employees_in": ["START", "COMPLETE"], "payroll_out": ["START", "COMPLETE"]}

    hub = HubStore.open(store_url, folder)
    try:
        url = hub.engine.url
        with hub.begin() as conn:
            released = audit.last_detail(conn, "publish", "employee → payroll/employees")
    finally:
        hub.close()
    if url.get_backend_name() == "sqlite":
        hub_dataset = {"namespace": f"sqlite://{(folder / '.officehub' / 'hub.db').resolve().as_posix()}",
                       "name": "employee"}
    else:
        hub_dataset = {"namespace": "postgres://127.0.0.1:5432", "name": f"{url.database}.public.employee"}
    hr_dataset = {"namespace": f"sqlite://{(folder / 'data' / 'hr.db').resolve().as_posix()}", "name": "employees"}
    payroll_dataset = {"namespace": "file",
                       "name": (folder / "out" / "payroll").resolve().as_posix() + "/EMPLOYEES_*.csv"}

    for (name, result, source, target) in (("hr_employees_in", ingest, hr_dataset, hub_dataset),
                                            ("payroll_out", publish, hub_dataset, payroll_dataset)):
        start, complete = events[name]
        assert start["run"]["runId"] == complete["run"]["runId"]
        assert start["job"]["namespace"] == complete["job"]["namespace"] == "sentinel-hub"
        assert complete["producer"] == PRODUCER
        assert complete["job"]["facets"]["jobType"]["jobType"] == result.kind.upper()
        for event in (start, complete):
            assert [{k: d[k] for k in ("namespace", "name")} for d in event["inputs"]] == [source]
            assert [{k: d[k] for k in ("namespace", "name")} for d in event["outputs"]] == [target]
            run_facet = event["run"]["facets"]["officehub_run"]
            assert {k: run_facet[k] for k in ("hubRunId", "pipeline", "kind")} == \
                {"hubRunId": result.run_id, "pipeline": name, "kind": result.kind}
            assert run_facet["_producer"] == PRODUCER
            assert run_facet["_schemaURL"].endswith("/OfficehubRunFacet.json#/$defs/OfficehubRunFacet")
        assert start["outputs"][0]["outputFacets"] == {}
        assert complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == \
            result.metrics.records_written
        assert complete["inputs"][0]["inputFacets"]["inputStatistics"]["rowCount"] == result.metrics.records_read
        assert "errorMessage" not in complete["run"]["facets"]
    # Three valid employees stored, one quarantined for its over-long health note; all three sent on.
    assert (ingest.metrics.records_written, ingest.metrics.records_quarantined) == (3, 1)
    assert publish.metrics.records_written == 3

    sharing = events["payroll_out"][1]["run"]["facets"]["officehub_sharing"]
    assert {k: sharing[k] for k in ("policyVersion", "plan", "agreementId", "purpose", "legalBasis")} == {
        "policyVersion": released["policy_version"], "plan": released["plan"], "agreementId": "payroll-2026",
        "purpose": "payroll processing", "legalBasis": "GDPR Art. 6(1)(b) employment contract"}
    assert sharing["_producer"] == PRODUCER
    assert sharing["_schemaURL"].endswith("/SharingRunFacet.json#/$defs/SharingRunFacet")
    assert all("officehub_sharing" not in e["run"]["facets"] for e in events["hr_employees_in"])

    # The hub store holds the medical sentinels; no event, and no log line, carries one (or the key).
    assert "SNTL-MED-OCC-1" in str(_hub_values(store_url, folder))
    bodies = "".join(post.body.decode() for post in backend.posts)
    assert leaks(bodies + caplog.text) == []
    assert API_KEY not in bodies.replace(f"Bearer {API_KEY}", "") + caplog.text


def _hub_values(store_url: str, folder: Path) -> list[tuple]:
    hub = HubStore.open(store_url, folder)
    try:
        with hub.begin() as conn:
            return [tuple(row) for row in conn.execute(sa.select(hub.tables["employee"]))]
    finally:
        hub.close()


def test_a_failing_run_sends_fail_with_the_hubs_one_line_error(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    with receiver() as backend:
        folder = estate(tmp_path / "estate", {"url": backend.url})
        with sqlite3.connect(folder / "data" / "hr.db") as db:  # the source table is gone
            db.execute("ALTER TABLE employees RENAME TO employees_old")
        (result,) = sync(load_project(folder), ["hr_employees_in"])
    assert result.status == "failed" and result.error
    start, fail = [post.json() for post in backend.posts]
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert start["run"]["runId"] == fail["run"]["runId"]
    error = fail["run"]["facets"]["errorMessage"]
    assert (error["message"], error["programmingLanguage"]) == (result.error, "python")
    assert "\n" not in error["message"] and "stackTrace" not in error
    assert leaks("".join(post.body.decode() for post in backend.posts) + caplog.text) == []


def test_runs_inside_an_airflow_task_name_its_run_as_their_parent(tmp_path: Path):
    parent = lineage.ParentRun("airflow-ns", "officehub_hr_employees_in.ingest", "01926e5e-0c7a-7d2e-8b1a-2f1e7c3d4b5a")
    with receiver() as backend:
        folder = estate(tmp_path / "estate", {"url": backend.url})
        with lineage.under_parent(parent):
            sync(load_project(folder), ["hr_employees_in"])
        sync(load_project(folder), ["hr_employees_in"])
    inside = [post.json() for post in backend.posts[:2]]
    assert [e["run"]["facets"]["parent"]["run"]["runId"] for e in inside] == [parent.run_id] * 2
    assert {(e["run"]["facets"]["parent"]["job"]["namespace"], e["run"]["facets"]["parent"]["job"]["name"])
            for e in inside} == {(parent.namespace, parent.job)}
    # Outside a task (the CLI), no parent.
    assert all("parent" not in post.json()["run"]["facets"] for post in backend.posts[2:])
    assert len(backend.posts) == 4


def test_an_endpoint_that_is_down_fails_no_run(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING)
    folder = estate(tmp_path / "estate", {"url": f"http://127.0.0.1:{free_port()}", "timeout_s": 2})
    results = sync(load_project(folder), ["hr_employees_in", "payroll_out"])
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    assert results[1].metrics.records_written == 3
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("officehub.engine.lineage")]
    # One warning a run: after a failed send, the run's later events are not tried.
    assert warnings == [f"lineage: START event of pipeline {r.pipeline} run {r.run_id} not sent (ConnectionError); "
                        "the run's later events are dropped" for r in results]
    assert leaks(caplog.text) == []


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An address that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_endpoint_that_never_answers_costs_a_run_at_most_its_timeout(tmp_path: Path, silent_endpoint: str):
    quiet = estate(tmp_path / "quiet", {"url": silent_endpoint, "timeout_s": 1})
    plain = tmp_path / "plain"
    shutil.copytree(quiet, plain)
    config = yaml.safe_load((plain / "officehub.yaml").read_text())
    del config["lineage"]
    (plain / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    began = time.perf_counter()
    baseline = sync(load_project(plain), ["hr_employees_in", "payroll_out"])
    without = time.perf_counter() - began
    began = time.perf_counter()
    results = sync(load_project(quiet), ["hr_employees_in", "payroll_out"])
    with_silent = time.perf_counter() - began
    assert [r.status for r in baseline + results] == ["succeeded"] * 4
    # Two runs, each waiting once for its START (1 s), then sending nothing more.
    assert 2.0 <= with_silent < without + 2.0 + 1.5
