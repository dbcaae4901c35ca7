"""Metrics for runs with no server: ``hub.metrics`` writes a node-exporter textfile or pushes to a Pushgateway
after each pipeline run of ``officehub sync``, and ``officehub metrics`` does it on demand — on real hub stores
(SQLite and PostgreSQL), parsed with the Prometheus client's parser, with no special-category value in them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.integration import metrics_estate as estate
from tests.integration.http_receiver import receiver
from tests.integration.served import free_port

PUSH_TOKEN = "pushgateway-token-8813"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The hub store: a SQLite file in the project, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite:///.officehub/hub.db"
    return str(request.getfixturevalue("postgres_url"))


def test_each_run_replaces_the_textfile_and_the_command_writes_one(tmp_path: Path, store_url: str):
    folder = estate.build(tmp_path / "estate", store_url, hub={"metrics": {"textfile": "textfile/officehub.prom"}})
    (folder / "textfile").mkdir()

    one = run_cli("-p", str(folder), "sync", "hr_employees_in")
    after_one = (folder / "textfile" / "officehub.prom").read_text()
    synced = run_cli("-p", str(folder), "sync", "--all")
    after_all = (folder / "textfile" / "officehub.prom").read_text()
    on_demand = run_cli("-p", str(folder), "metrics", "--textfile", "textfile/now.prom")
    printed = run_cli("-p", str(folder), "metrics")

    assert (one.returncode, synced.returncode, on_demand.returncode, printed.returncode) == (0, 0, 0, 0), \
        one.stderr + synced.stderr + on_demand.stderr
    assert estate.by_label(estate.samples(after_one), "officehub_pipeline_runs_total", "pipeline") == \
        {"hr_employees_in": 1.0}
    # Written after the last run of the sync: every pipeline's figures, as the store holds them.
    estate.assert_figures_match(after_all, folder)
    estate.assert_figures_match((folder / "textfile" / "now.prom").read_text(), folder)
    estate.assert_figures_match(printed.stdout, folder)
    # Written beside its place and renamed over it: nothing half-written is left for node-exporter.
    assert sorted(p.name for p in (folder / "textfile").iterdir()) == ["now.prom", "officehub.prom"]
    outputs = after_all + printed.stdout + one.stderr + synced.stdout + synced.stderr + on_demand.stderr
    assert estate.leaks(outputs) == []


def test_each_run_pushes_to_the_pushgateway_and_the_command_pushes_on_demand(tmp_path: Path, store_url: str):
    env = {**os.environ, "PUSH_TOKEN": PUSH_TOKEN}
    with receiver(accepts=lambda path: path.startswith("/metrics/job/")) as gateway:  # a Pushgateway
        folder = estate.build(tmp_path / "estate", store_url, hub={"metrics": {
            "pushgateway": gateway.url, "job": "officehub-sync", "pushgateway_token": {"env": "PUSH_TOKEN"}}})
        synced = run_cli("-p", str(folder), "sync", "--all", env=env)
        pushed_by_runs = list(gateway.posts)
        on_demand = run_cli("-p", str(folder), "metrics", "--push", gateway.url, "--job", "nightly", env=env)

    assert synced.returncode == 0 and on_demand.returncode == 0, synced.stderr + on_demand.stderr
    # One push after each of the eight runs, each replacing the hub's group (PUT), with the bearer token.
    assert len(pushed_by_runs) == 8
    assert {(p.method, p.path) for p in pushed_by_runs} == {("PUT", "/metrics/job/officehub-sync/hub/sentinel")}
    assert all(p.headers["authorization"] == f"Bearer {PUSH_TOKEN}" for p in pushed_by_runs)
    assert estate.by_label(estate.samples(pushed_by_runs[0].text()), "officehub_pipeline_runs_total", "pipeline") \
        == {"hr_employees_in": 1.0}
    estate.assert_figures_match(pushed_by_runs[-1].text(), folder)
    last = gateway.posts[-1]
    assert (last.method, last.path) == ("PUT", "/metrics/job/nightly/hub/sentinel")
    estate.assert_figures_match(last.text(), folder)
    assert estate.leaks("".join(p.text() for p in gateway.posts) + synced.stdout + synced.stderr) == []
    assert PUSH_TOKEN not in synced.stdout + synced.stderr + on_demand.stderr


def test_a_pushgateway_that_is_down_fails_no_run(tmp_path: Path):
    down = f"http://127.0.0.1:{free_port()}"
    folder = estate.build(tmp_path / "estate", "sqlite:///.officehub/hub.db",
                          hub={"metrics": {"pushgateway": down, "timeout_s": 2}})

    synced = run_cli("-p", str(folder), "-v", "sync", "--all")
    on_demand = run_cli("-p", str(folder), "metrics", "--push", down)

    assert synced.returncode == 0, synced.stderr
    assert "metrics not exported after pipeline payroll_out: cannot push metrics to the Pushgateway" in synced.stderr
    # Asked for by hand, the push's failure is the command's: try again later (75).
    assert on_demand.returncode == 75 and "cannot push metrics to the Pushgateway" in on_demand.stderr
    assert estate.leaks(synced.stdout + synced.stderr + on_demand.stderr) == []
