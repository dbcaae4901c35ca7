"""Each kind of alert rule fires on a real condition in a real hub store (SQLite and PostgreSQL), is sent
once however often the check runs, and closes (with a resolved message) when the condition clears."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration import alert_estate as estate
from tests.integration.alert_servers import Webhook, webhook_server


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The hub store: a SQLite file in the project, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite:///.officehub/hub.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_server() as server:
        yield server


def _estate(tmp_path: Path, store_url: str, hook: Webhook, rule: dict[str, Any]) -> Path:
    return estate.build(tmp_path / "estate", store_url, {
        "channels": {"ops": {"type": "webhook", "url": hook.url}},
        "rules": [{"channels": ["ops"], **rule}]})


def _hub_url(folder: Path, store_url: str) -> str:
    return f"sqlite:///{folder}/.officehub/hub.db" if store_url.startswith("sqlite") else store_url


def _incidents(folder: Path, store_url: str) -> list[tuple[Any, ...]]:
    return estate.rows(_hub_url(folder, store_url), "SELECT id, rule, subject, closed_at IS NULL, sent_at IS NOT NULL, "
                                                    "resolved_sent_at IS NOT NULL FROM alert_incident ORDER BY id")


def _sent_audit(folder: Path, store_url: str) -> list[tuple[Any, ...]]:
    return estate.rows(_hub_url(folder, store_url),
                       "SELECT actor, subject FROM audit WHERE action = 'alert.sent' ORDER BY id")


def test_a_failed_run_opens_one_incident_sent_once_and_closed_by_the_next_good_run(tmp_path: Path, store_url: str,
                                                                                   hook: Webhook):
    folder = _estate(tmp_path, store_url, hook, {"id": "failed", "kind": "run_failed"})
    estate.write_staff(folder, "001", 30, bad=30)  # every hire date in the wrong layout: the run fails

    assert estate.run(folder, "staff_in") == ["failed"]
    first, second = estate.check(folder), estate.check(folder)

    assert first.ok and len(first.opened) == 1 and len(first.delivered) == 1
    assert second.ok and second.opened == [] and second.delivered == [] and second.open_incidents == 1
    [body] = hook.bodies
    assert body["rule"] == "failed" and body["kind"] == "run_failed" and body["state"] == "opened"
    assert body["subject"] == "pipeline staff_in" and body["hub"] == "branch"
    assert body["figures"]["run_id"] == 1 and body["figures"]["records_quarantined"] == 30
    assert body["figures"]["top_reasons"] == [
        {"reason": "hired → employment.hire_date: not a date in format %Y-%m-%d", "count": 30}]
    assert body["text"].startswith("[officehub branch] failed: run 1 of pipeline staff_in failed: quarantined 30 of 30")
    assert _incidents(folder, store_url) == [(1, "failed", "pipeline staff_in", True, True, False)]

    estate.write_staff(folder, "001", 30)  # the file corrected: the next run succeeds
    assert estate.run(folder, "staff_in") == ["succeeded"]
    cleared = estate.check(folder)

    assert cleared.closed == [1] and cleared.open_incidents == 0
    assert [b["state"] for b in hook.bodies] == ["opened", "resolved"]
    assert hook.bodies[1]["text"] == "[officehub branch] resolved failed: pipeline staff_in is back to normal"
    assert _incidents(folder, store_url) == [(1, "failed", "pipeline staff_in", False, True, True)]
    assert estate.check(folder).delivered == [] and len(hook.bodies) == 2
    assert _sent_audit(folder, store_url) == [(estate.ACTOR, "alert incident 1")] * 2


def test_a_run_quarantining_more_than_the_threshold_alerts_with_its_top_reasons(tmp_path: Path, store_url: str,
                                                                              hook: Webhook):
    folder = _estate(tmp_path, store_url, hook, {"id": "quarantine", "kind": "quarantine_fraction",
                                                 "threshold": 0.2, "min_records": 10})
    estate.write_staff(folder, "001", 30, bad=9)  # 30 %: the run succeeds, the rule fires

    assert estate.run(folder, "staff_in") == ["succeeded"]
    estate.check(folder)
    estate.check(folder)

    [body] = hook.bodies
    assert body["subject"] == "pipeline staff_in" and body["figures"]["fraction"] == 0.3
    assert body["figures"]["top_reasons"][0]["count"] == 9
    assert "quarantined 9 of 30 records read (30%, more than 20%)" in body["text"]

    estate.write_staff(folder, "002", 30, start=100, bad=3)  # 10 %: back under the threshold
    assert estate.run(folder, "staff_in") == ["succeeded"]
    assert estate.check(folder).closed == [1]
    assert [b["state"] for b in hook.of("resolved")] == ["resolved"]


def test_a_row_count_outside_the_usual_range_alerts_and_clears(tmp_path: Path, store_url: str, hook: Webhook):
    folder = _estate(tmp_path, store_url, hook, {"id": "rows", "kind": "row_count", "history": 5,
                                                 "min_history": 2, "tolerance": 0.5})
    for n, count in enumerate([10, 12], start=1):
        estate.write_staff(folder, f"00{n}", count, start=n * 100)
        assert estate.run(folder, "staff_in") == ["succeeded"]
        assert estate.check(folder).opened == []  # too little history, then within 10×0.5 … 12×1.5

    estate.write_staff(folder, "003", 4, start=300)  # under 10 × (1 − 0.5) = 5
    estate.run(folder, "staff_in")
    opened = estate.check(folder)

    assert len(opened.opened) == 1
    [body] = hook.bodies
    assert body["figures"]["records_read"] == 4 and body["figures"]["usual_low"] == 5
    assert body["figures"]["usual_high"] == 18 and body["figures"]["runs_compared"] == 2
    assert "read 4 records; the usual range after its last 2 successful runs is 5–18" in body["text"]

    estate.write_staff(folder, "004", 11, start=400)
    estate.run(folder, "staff_in")
    assert estate.check(folder).closed == opened.opened
    assert [b["state"] for b in hook.bodies] == ["opened", "resolved"]


def test_an_agreement_ending_tomorrow_alerts_until_it_is_renewed(tmp_path: Path, store_url: str, hook: Webhook):
    folder = _estate(tmp_path, store_url, hook, {"id": "agreements", "kind": "agreement_ending", "days": 7})
    assert estate.check(folder).opened == []  # valid for a year

    estate.write_agreement(folder, date.today() + timedelta(days=1))
    estate.check(folder)
    estate.check(folder)

    [body] = hook.bodies
    assert body["subject"] == "agreement reporting-2026"
    assert body["figures"] == {"agreement": "reporting-2026", "destination": "reporting",
                               "valid_until": (date.today() + timedelta(days=1)).isoformat(), "days_left": 1}
    # On a later day (the day after it ended) the incident is the same one, not a new message.
    assert estate.check(folder, today=date.today() + timedelta(days=2)).delivered == []

    estate.write_agreement(folder, date.today() + timedelta(days=400))
    assert len(estate.check(folder).closed) == 1
    assert [b["state"] for b in hook.bodies] == ["opened", "resolved"]


def test_an_audit_trail_that_does_not_verify_alerts_until_it_is_restored(tmp_path: Path, store_url: str,
                                                                         hook: Webhook):
    folder = _estate(tmp_path, store_url, hook, {"id": "audit", "kind": "audit_verify"})
    estate.write_staff(folder, "001", 3)
    assert estate.run(folder, "staff_in", "staff_out") == ["succeeded", "succeeded"]  # the publish is audited
    assert estate.check(folder).opened == []
    url = _hub_url(folder, store_url)
    [(first, actor)] = estate.rows(url, "SELECT id, actor FROM audit ORDER BY id LIMIT 1")

    _set_actor(url, first, "someone else")
    estate.check(folder)
    estate.check(folder)

    [body] = hook.bodies
    assert body["subject"] == "audit trail" and body["figures"]["broken_at"] == first
    assert body["text"].startswith(f"[officehub branch] audit: the audit trail does not verify at entry {first}")

    _set_actor(url, first, actor)
    assert len(estate.check(folder).closed) == 1
    assert [b["state"] for b in hook.bodies] == ["opened", "resolved"]


def _set_actor(url: str, entry: int, actor: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit SET actor = :a WHERE id = :i"), {"a": actor, "i": entry})
    engine.dispose()


def test_rule_filters_and_resolved_messages_can_be_turned_off(tmp_path: Path, hook: Webhook):
    folder = estate.build(tmp_path / "estate", "sqlite:///.officehub/hub.db", {
        "channels": {"ops": {"type": "webhook", "url": hook.url}}, "send_resolved": False,
        "rules": [{"id": "other", "kind": "run_failed", "pipelines": ["staff_out"], "channels": ["ops"]},
                  {"id": "staff", "kind": "run_failed", "pipelines": ["staff_in"], "channels": ["ops"]}]})
    estate.write_staff(folder, "001", 30, bad=30)
    estate.run(folder, "staff_in")
    estate.check(folder)

    assert [b["rule"] for b in hook.bodies] == ["staff"]
    estate.write_staff(folder, "001", 30)
    estate.run(folder, "staff_in")
    assert estate.check(folder).closed == [1] and len(hook.bodies) == 1
