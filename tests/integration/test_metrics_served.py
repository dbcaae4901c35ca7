"""``GET /metrics`` of a real ``officehub serve`` on a real hub store (SQLite and PostgreSQL) after real runs:
the figures equal the store's, two server processes answer alike, the token rule holds, and no special-category
value of the sentinel estate appears in what is served or logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration import metrics_estate as estate
from tests.integration.served import serve

TOKEN = "metrics-scrape-token-5521"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The hub store: a SQLite file in the project, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite:///.officehub/hub.db"
    return str(request.getfixturevalue("postgres_url"))


def _comparable(text: str) -> dict:
    """The samples that depend on the store alone (not on how long this scrape took)."""
    return {k: v for k, v in estate.samples(text).items() if k[0] != "officehub_metrics_scrape_duration_seconds"}


def test_served_metrics_are_the_hub_stores_figures_behind_the_token(tmp_path: Path, store_url: str):
    folder = estate.build(tmp_path / "estate", store_url, serve={"metrics_token": {"env": "METRICS_TOKEN"}})
    assert set(estate.synced(folder)) == {"succeeded"}
    env = {"METRICS_TOKEN": TOKEN}
    first, second = serve(folder, env=env), serve(folder, env=env)
    try:
        with first.api() as anonymous, first.api("wrong-token") as wrong, first.api(TOKEN) as scraper, \
                second.api(TOKEN) as other_worker:
            refused = [anonymous.get("/metrics"), wrong.get("/metrics"),
                       anonymous.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})]
            answer = scraper.get("/metrics")
            other = other_worker.get("/metrics")
    finally:
        logged = first.stop() + second.stop()

    assert [r.status_code for r in refused] == [401, 401, 401]
    assert refused[0].headers["www-authenticate"].startswith("Bearer")
    assert all("officehub_" not in r.text for r in refused)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    estate.assert_figures_match(answer.text, folder)
    # Each process reads the whole hub store: another worker gives the same figures.
    assert _comparable(other.text) == _comparable(answer.text)
    assert estate.leaks(answer.text + other.text + logged) == []
    assert TOKEN not in answer.text + logged


def test_metrics_are_open_without_a_token_and_refused_when_its_reference_is_missing(tmp_path: Path):
    open_folder = estate.build(tmp_path / "open", "sqlite:///.officehub/hub.db")
    closed_folder = estate.build(tmp_path / "closed", "sqlite:///.officehub/hub.db",
                                 serve={"metrics_token": {"env": "METRICS_TOKEN_NOT_SET"}})
    estate.synced(open_folder)
    opened, closed = serve(open_folder), serve(closed_folder)
    try:
        with opened.api() as anyone, closed.api("anything") as guesser:
            answer, unavailable = anyone.get("/metrics"), guesser.get("/metrics")
    finally:
        opened.stop()
        closed.stop()

    assert answer.status_code == 200
    estate.assert_figures_match(answer.text, open_folder)
    # A token that cannot be read fails closed, and says which reference to fix.
    assert unavailable.status_code == 503 and "METRICS_TOKEN_NOT_SET" in unavailable.text
