"""A pytest plugin: no test's output may hold a secret the tests set, or a special-category sentinel.

After each phase of each test (setup, call, teardown) it scans what that phase left behind:
captured stdout, stderr and log records (the report's sections), and the output of every
officehub CLI call and server the test helpers ran (:func:`note_output`). It looks for

* secrets registered with :func:`register_secret` (passwords, keys, tokens; the shared
  fixtures and helpers register the ones they make), and
* the sentinels the test estates put into medical, criminal and legal fields.

A hit fails the test with the kind of value and where it was seen, never the value itself.
A test whose output shows a secret on purpose (a one-time password printed to the admin
who made the account) says so: ``@pytest.mark.shows_secret("password", reason="…")``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

#: The sentinels of the test estates, by kind (tests/integration/sentinel_estate.py, linkage_estate.py, …).
SENTINELS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), kind) for p, kind in (
    (r"SNTL-MED[\w-]*|Q77\.SNTL|SENTINEL-(?:HEALTH|OCC)-\w+", "medical sentinel"),
    (r"1915-03-(?:15|16|20)|15\.03\.1915", "medical sentinel"),
    (r"SNTL-CRIM[\w-]*|1913-01-13|13\.01\.1913", "criminal sentinel"),
    (r"SNTL-LEGAL[\w-]*|1914-02-14|14\.02\.1914|4242\.42", "legal sentinel"),
))
#: Shorter values would turn up by chance in unrelated text.
MIN_SECRET = 6

_secrets: dict[str, str] = {}
_outputs: list[tuple[str, str]] = []


def register_secret(value: str | bytes, kind: str) -> str:
    """Make ``value`` a leak wherever a test's output shows it; returns it (so a constant can be wrapped).

    ``kind`` names it in a failure ("password", "api token", "pseudonymisation key", …).
    """
    text = value.decode() if isinstance(value, bytes) else value
    if len(text.strip()) < MIN_SECRET:
        raise ValueError(f"a registered {kind} must have at least {MIN_SECRET} characters to be told apart")
    _secrets[text.strip()] = kind
    return value  # type: ignore[return-value]


def note_output(label: str, text: str | None) -> None:
    """Scan ``text`` (what a CLI call or a server printed) with the current test's own output."""
    if text:
        _outputs.append((label, text))


@dataclass(frozen=True)
class Leak:
    """A kind of value seen in one place; never the value."""

    kind: str
    where: str


def withheld(text: str) -> str:
    """``text`` with every registered secret and sentinel replaced by its kind."""
    for value, kind in _secrets.items():
        text = text.replace(value, f"<{kind} withheld>")
    for pattern, kind in SENTINELS:
        text = pattern.sub(f"<{kind} withheld>", text)
    return text


def find_leaks(where: str, text: str) -> list[Leak]:
    """Every kind of registered secret or sentinel in ``text``."""
    kinds = {kind for value, kind in _secrets.items() if value in text}
    kinds |= {kind for pattern, kind in SENTINELS if pattern.search(text)}
    return [Leak(kind, where) for kind in sorted(kinds)]


def _a(kind: str) -> str:
    return "an" if kind[:1].lower() in "aeiou" else "a"


def _allowed(item: pytest.Item) -> set[str]:
    allowed = set()
    for mark in item.iter_markers("shows_secret"):
        if not mark.kwargs.get("reason"):
            raise pytest.UsageError(f"{item.nodeid}: shows_secret needs a reason (why the output shows it)")
        allowed |= set(mark.args)
    return allowed


def _scan(item: pytest.Item, report: pytest.TestReport) -> list[Leak]:
    # A report carries the sections of the phases before it too; each phase is scanned once.
    places = [(title, text) for title, text in report.sections
              if title.startswith("Captured") and title.endswith(f" {report.when}")]
    places += [(f"output of {label}", text) for label, text in _outputs]
    _outputs.clear()
    allowed = _allowed(item)
    return [leak for where, text in places for leak in find_leaks(where, text) if leak.kind not in allowed]


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker (the suite runs with --strict-markers)."""
    config.addinivalue_line("markers", "shows_secret(*kinds, reason): the test's output shows these kinds on "
                                       "purpose (e.g. a one-time password printed to the admin); reason required")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Fail the phase whose output leaked, naming the kinds and places only."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    leaks = _scan(item, report)
    if not leaks:
        return
    message = "leak scan: " + "; ".join(f"{_a(leak.kind)} {leak.kind} in the {leak.where}" for leak in leaks)
    # pytest shows a failed test's captured output: shown as it is, the value would reach the CI log.
    report.sections = [(title, withheld(text)) for title, text in report.sections]
    if report.passed:
        report.outcome = "failed"
        report.longrepr = message
    else:
        report.sections.append(("leak scan", message))
