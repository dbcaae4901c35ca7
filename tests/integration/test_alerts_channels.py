"""Alert channels against real receivers on loopback: a webhook that fails then recovers, an SMTP server
(aiosmtpd) that takes a login and refuses once, a channel nobody listens on; and the CLI around them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli
from tests.integration import alert_estate as estate
from tests.integration.alert_servers import Mailbox, Webhook, free_port, smtp_server, webhook_server

TOKEN = "hook-token-5f1c9a"
MAIL_PASSWORD = "mail-pass-0123"


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_server() as server:
        yield server


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(password=MAIL_PASSWORD) as box:
        yield box


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The channels' secrets, in env vars as the config references them (also for CLI subprocesses)."""
    values = {"ALERT_HOOK_TOKEN": f"Bearer {TOKEN}", "ALERT_SMTP_PASSWORD": MAIL_PASSWORD}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **values}


def _channels(hook: Webhook, mailbox: Mailbox) -> dict[str, Any]:
    return {"ops": {"type": "webhook", "url": hook.url, "timeout_s": 5,
                    "headers": {"Authorization": {"env": "ALERT_HOOK_TOKEN"}}},
            "mail": {"type": "email", "host": "127.0.0.1", "port": mailbox.port, "security": "none",
                     "user": "alerts", "password": {"env": "ALERT_SMTP_PASSWORD"}, "from": "hub@example.org",
                     "to": ["ops@example.org", "dpo@example.org"], "timeout_s": 5},
            "down": {"type": "webhook", "url": f"http://127.0.0.1:{free_port()}/nobody", "timeout_s": 2}}


def _failing_estate(tmp_path: Path, hook: Webhook, mailbox: Mailbox, channels: list[str]) -> Path:
    folder = estate.build(tmp_path / "estate", "sqlite:///.officehub/hub.db", {
        "channels": _channels(hook, mailbox),
        "rules": [{"id": "failed", "kind": "run_failed", "channels": channels}]})
    estate.write_staff(folder, "001", 30, bad=30)
    return folder


def test_a_webhook_that_answers_500_gets_the_alert_at_the_next_check(tmp_path: Path, hook: Webhook,
                                                                     mailbox: Mailbox, secrets: dict[str, str]):
    folder = _failing_estate(tmp_path, hook, mailbox, ["ops"])
    estate.run(folder, "staff_in")
    hook.statuses = [500]

    failed = run_cli("-p", str(folder), "alerts", "check", "--json", env=secrets)

    assert failed.returncode == 75, failed.stderr
    report = json.loads(failed.stdout)
    assert report["failures"] == [{"incident": 1, "channel": "ops", "message": "opened",
                                   "problem": "the webhook answered HTTP 500"}]
    assert "incident 1: channel ops: the webhook answered HTTP 500 (tried again at the next check)" in failed.stderr
    assert hook.bodies == []

    retried = run_cli("-p", str(folder), "alerts", "check", "--json", env=secrets)

    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["delivered"] == [{"incident": 1, "channel": "ops", "message": "opened"}]
    [body] = hook.bodies
    assert body["incident"] == 1 and body["state"] == "opened"
    assert hook.headers[0]["Authorization"] == f"Bearer {TOKEN}"
    assert hook.headers[0]["Content-Type"] == "application/json"
    assert run_cli("-p", str(folder), "alerts", "check", env=secrets).returncode == 0 and len(hook.bodies) == 1


def test_an_unreachable_channel_does_not_hold_up_the_others_nor_get_them_twice(tmp_path: Path, hook: Webhook,
                                                                             mailbox: Mailbox, secrets: dict[str, str]):
    folder = _failing_estate(tmp_path, hook, mailbox, ["down", "ops", "mail"])
    estate.run(folder, "staff_in")

    first, second = estate.check(folder), estate.check(folder)

    for report in (first, second):
        assert [(f["channel"], f["problem"]) for f in report.failures] == [
            ("down", "cannot reach the webhook (ConnectionError)")]
    assert [(d["channel"]) for d in first.delivered] == ["ops", "mail"] and second.delivered == []
    assert len(hook.bodies) == 1 and len(mailbox.messages) == 1
    # The incident stays unsent for the channel that did not take it.
    assert estate.rows(f"sqlite:///{folder}/.officehub/hub.db", "SELECT sent_at FROM alert_incident") == [(None,)]
    listed = json.loads(run_cli("-p", str(folder), "alerts", "list", "--open", "--json", env=secrets).stdout)
    assert [(i["id"], i["rule"], i["state"], i["sent_at"]) for i in listed] == [(1, "failed", "open", None)]


def test_an_alert_by_email_carries_its_text_and_json_after_a_login(tmp_path: Path, hook: Webhook,
                                                                  mailbox: Mailbox, secrets: dict[str, str]):
    folder = _failing_estate(tmp_path, hook, mailbox, ["mail"])
    estate.run(folder, "staff_in")
    mailbox.refuse = [451]

    refused = estate.check(folder)
    sent = estate.check(folder)

    assert [f["problem"] for f in refused.failures] == ["the mail server answered 451"]
    assert sent.ok and [d["channel"] for d in sent.delivered] == ["mail"]
    [message] = mailbox.messages
    assert [login for login, _ in mailbox.logins] == ["alerts", "alerts"]  # both tries logged in
    assert message["From"] == "hub@example.org" and message["To"] == "ops@example.org, dpo@example.org"
    assert message["Subject"].startswith("[officehub branch] failed: run 1 of pipeline staff_in failed")
    text = message.get_payload(decode=True).decode()
    body = json.loads(text[text.index("{"):])
    assert body["rule"] == "failed" and body["figures"]["records_quarantined"] == 30
    assert MAIL_PASSWORD not in mailbox.raw[0].decode()


def test_alerts_test_sends_a_test_message_or_says_which_channel_failed(tmp_path: Path, hook: Webhook,
                                                                      mailbox: Mailbox, secrets: dict[str, str]):
    folder = _failing_estate(tmp_path, hook, mailbox, ["ops"])

    for channel in ("ops", "mail"):
        done = run_cli("-p", str(folder), "alerts", "test", channel, env=secrets)
        assert done.returncode == 0 and f"channel {channel} took the test message" in done.stdout
    down = run_cli("-p", str(folder), "alerts", "test", "down", env=secrets)
    unknown = run_cli("-p", str(folder), "alerts", "test", "pager", env=secrets)

    assert hook.of("test")[0]["subject"] == "channel ops" and len(mailbox.messages) == 1
    assert "test message" in mailbox.messages[0]["Subject"]
    assert down.returncode == 75
    assert down.stderr.strip() == "error alert channel down: cannot reach the webhook (ConnectionError)"
    assert unknown.returncode == 2 and "no alert channel 'pager' (configured: ops, mail, down)" in unknown.stderr


def test_sync_checks_alerts_after_its_runs_so_a_failed_run_alerts_at_once(tmp_path: Path, hook: Webhook,
                                                                         mailbox: Mailbox, secrets: dict[str, str]):
    folder = _failing_estate(tmp_path, hook, mailbox, ["ops"])

    done = run_cli("-p", str(folder), "sync", "staff_in", "--json", env=secrets)

    assert done.returncode == 1  # the run's failure, not the alert's
    assert json.loads(done.stdout)[0]["status"] == "failed"  # stdout stays the runs' JSON
    assert "alerts: 1 incident(s) opened, 1 message(s) sent" in done.stderr
    assert [b["subject"] for b in hook.bodies] == ["pipeline staff_in"]


def test_a_secret_header_that_cannot_be_resolved_is_a_failure_of_that_channel(tmp_path: Path, hook: Webhook,
                                                                             mailbox: Mailbox):
    folder = _failing_estate(tmp_path, hook, mailbox, ["ops", "mail"])
    estate.run(folder, "staff_in")
    env = {k: v for k, v in os.environ.items() if k not in ("ALERT_HOOK_TOKEN", "ALERT_SMTP_PASSWORD")}

    done = run_cli("-p", str(folder), "alerts", "check", "--json", env=env)

    assert done.returncode == 75
    assert [(f["channel"], f["problem"]) for f in json.loads(done.stdout)["failures"]] == [
        ("ops", "environment variable ALERT_HOOK_TOKEN is not set"),
        ("mail", "environment variable ALERT_SMTP_PASSWORD is not set")]


@pytest.mark.parametrize(("change", "expected"), [
    ({"rules": [{"id": "r", "kind": "disk_full", "channels": ["ops"]}]},
     "alerts.rules.0: Input tag 'disk_full' found using 'kind' does not match any of the expected tags"),
    ({"channels": {"ops": {"type": "pager"}}}, "alerts.channels.ops: Input tag 'pager' found using 'type'"),
    ({"rules": [{"id": "r", "kind": "run_failed", "channels": ["pager"]}]},
     "alerts.rules: Value error, rule 'r' sends to unknown channel(s) pager (configured: ops)"),
    ({"channels": {"ops": {"type": "webhook", "url": "http://hooks.example.org/x"}}},
     "alerts.channels.ops.webhook.url: Value error, a webhook url must be https://"),
])
def test_a_wrong_alerts_section_is_a_one_line_error_naming_file_line_and_key(tmp_path: Path, change: dict[str, Any],
                                                                             expected: str):
    section = {"channels": {"ops": {"type": "webhook", "url": "https://hooks.example.org/x"}},
               "rules": [{"id": "r", "kind": "run_failed", "channels": ["ops"]}], **change}
    folder = estate.build(tmp_path / "estate", "sqlite:///.officehub/hub.db", section)

    done = run_cli("-p", str(folder), "alerts", "check")

    assert done.returncode == 2
    [line, summary] = done.stderr.strip().splitlines()
    assert line.startswith("error officehub.yaml:") and expected in line
    assert summary == "1 problem(s) in the configuration."


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_two_checks_at_once_send_each_message_once(tmp_path: Path, hook: Webhook, mailbox: Mailbox,
                                                   secrets: dict[str, str], store: str,
                                                   request: pytest.FixtureRequest):
    """A sync's check and the scheduled one at the same moment, the webhook slow to answer: the second
    check waits for the first's turn, then finds the message sent."""
    from concurrent.futures import ThreadPoolExecutor

    url = request.getfixturevalue("postgres_url") if store == "postgresql" else "sqlite:///.officehub/hub.db"
    folder = estate.build(tmp_path / "estate", url, {
        "channels": _channels(hook, mailbox), "rules": [{"id": "failed", "kind": "run_failed", "channels": ["ops"]}]})
    estate.write_staff(folder, "001", 30, bad=30)
    estate.run(folder, "staff_in")
    hook.delay_s = 1.0

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: estate.check(folder), range(2)))

    assert len(hook.bodies) == 1, "one message, however many checks ran at once"
    assert sorted(len(r.delivered) for r in reports) == [0, 1]
    assert all(r.ok and r.open_incidents == 1 for r in reports)
