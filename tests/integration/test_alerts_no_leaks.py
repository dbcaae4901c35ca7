"""No medical, criminal or legal value in any alert: the sentinel estate's failed and quarantining runs
alert by webhook and e-mail, and every body, e-mail, CLI output, audit entry and incident is scanned."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import yaml

from tests.helpers import run_cli
from tests.integration import sentinel_estate
from tests.integration.alert_servers import smtp_server, webhook_server
from tests.integration.sentinel_estate import SENTINELS

PASSWORD = "sentinel-mail-pass-77"
TOKEN = "sentinel-hook-token-91"


def _more_dirty_employees(folder: Path) -> None:
    """Twenty more employees whose health notes are too long: the employees' run quarantines most of what
    it reads, each row because of its special-category value, and fails."""
    with sqlite3.connect(folder / "data" / "hr.db") as db:
        db.executemany("INSERT INTO employees VALUES (?, 'Test', ?, '1980-01-01', NULL, '2020-01-01', 'Sales', "
                       "'100.00', NULL, ?, '2026-01-10 00:00:00')",
                       [(f"E-{n}", f"Person{n}", f"SNTL-MED-BULK-{n} " + "x" * 520) for n in range(100, 120)])


def _with_alerts(folder: Path, hook_url: str, mail_port: int) -> None:
    path = folder / "officehub.yaml"
    config = yaml.safe_load(path.read_text())
    config["alerts"] = {
        "channels": {
            "hook": {"type": "webhook", "url": hook_url, "headers": {"X-Token": {"env": "SENTINEL_HOOK_TOKEN"}}},
            "mail": {"type": "email", "host": "127.0.0.1", "port": mail_port, "security": "none", "user": "alerts",
                     "password": {"env": "SENTINEL_MAIL_PASSWORD"}, "from": "hub@example.org",
                     "to": ["ops@example.org"]}},
        "rules": [{"id": kind.replace("_", "-"), "kind": kind, "channels": ["hook", "mail"], **extra}
                  for kind, extra in (("run_failed", {}), ("quarantine_fraction", {"threshold": 0}),
                                      ("agreement_ending", {"days": 3650}), ("audit_verify", {}))]}
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _leaks(text: str) -> list[str]:
    return [s for s in SENTINELS if s in text]


def test_alerts_on_the_sentinel_estate_carry_no_special_category_value_nor_secret(tmp_path: Path):
    folder = sentinel_estate.build(tmp_path / "estate")
    env = {**os.environ, "SENTINEL_HOOK_TOKEN": TOKEN, "SENTINEL_MAIL_PASSWORD": PASSWORD}
    with webhook_server() as hook, smtp_server(password=PASSWORD) as mailbox:
        _more_dirty_employees(folder)
        _with_alerts(folder, hook.url, mailbox.port)
        outputs = [run_cli("-p", str(folder), *args, env=env) for args in (
            ("sync", "--all"), ("alerts", "check"), ("alerts", "check", "--json"), ("alerts", "list"),
            ("alerts", "list", "--json"), ("alerts", "test", "hook"), ("alerts", "test", "mail"),
            ("--debug", "alerts", "check"))]

    assert outputs[0].returncode == 1  # the employees' run failed
    assert all(done.returncode == 0 for done in outputs[1:]), [done.stderr for done in outputs]
    rules = sorted({body["rule"] for body in hook.bodies if body["state"] == "opened"})
    assert rules == ["agreement-ending", "quarantine-fraction", "run-failed"]
    failed = next(b for b in hook.bodies if b["rule"] == "run-failed")
    assert failed["subject"] == "pipeline hr_employees_in" and failed["figures"]["top_reasons"]
    assert len(mailbox.messages) == len(hook.bodies)  # every alert went both ways, once
    with sqlite3.connect(folder / ".officehub" / "hub.db") as db:
        audit = repr(db.execute("SELECT subject, detail FROM audit WHERE action = 'alert.sent'").fetchall())
        incidents = repr(db.execute("SELECT * FROM alert_incident").fetchall())
    assert audit.count("alert incident") == len(hook.of("opened"))
    scanned = {"webhook bodies": b"".join(hook.raw).decode(), "e-mails": b"".join(mailbox.raw).decode(),
               "CLI output": "".join(done.stdout + done.stderr for done in outputs),
               "audit entries": audit, "incidents": incidents}
    for where, text in scanned.items():
        assert not _leaks(text), f"{_leaks(text)} in the {where}"
        assert TOKEN not in text and PASSWORD not in text, f"a channel secret in the {where}"
