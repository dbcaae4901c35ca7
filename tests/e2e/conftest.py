"""Fixtures of the browser tests: one served demo estate per module, and people at browsers of their own.

Without Chromium, its driver or Selenium the tests are skipped, with the reason; in CI
(``CI`` set) that is a failure instead, since CI installs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.console import Person, browser, demo_estate, missing
from tests.integration.served import PASSWORD, Served, serve

#: The people of the demo estate's console, by login.
PEOPLE = {"steward": ["steward"], "officer-a": ["compliance"], "officer-b": ["compliance"], "viewer": ["viewer"]}


@pytest.fixture(scope="session")
def chromium() -> None:
    """Headless Chromium can be driven here (or the test is skipped; in CI it fails)."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def estate(chromium: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_estate(tmp_path_factory.mktemp("browser") / "demo", PEOPLE, customers=60, employees=20, products=20)


@pytest.fixture(scope="module")
def served(estate: Path) -> Iterator[Served]:
    server = serve(estate)
    yield server
    server.stop()


@pytest.fixture
def person(served: Served, tmp_path: Path) -> Iterator[Callable[[str | None], Person]]:
    """A factory: someone at a browser of their own, signed in as ``login`` (or not signed in, for None)."""
    drivers = []

    def at_a_browser(login: str | None) -> Person:
        driver = browser(tmp_path / f"profile-{len(drivers)}")
        drivers.append(driver)
        someone = Person(driver, served.url)
        if login is not None:
            someone.open("/").sign_in(login, PASSWORD)
            assert someone.path == "/", someone.text
        return someone

    yield at_a_browser
    for driver in drivers:
        driver.quit()
