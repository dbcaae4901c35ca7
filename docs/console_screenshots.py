"""Screenshots of the web console's main pages for docs/console.md.

Run from the repository's folder (it needs the dev extras: Selenium; and Debian's
``chromium`` and ``chromium-driver``)::

    .venv/bin/python -m docs.console_screenshots

It builds the demo estate in a temporary folder, serves it with ``officehub serve`` on
loopback, does what each page needs done (a reveal, a policy change proposed by one
compliance officer, a search for a data subject) in headless Chromium, and saves each page
as seen in a 1280×900 window to ``docs/images/console/<page>.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.e2e.console import Person, browser, demo_estate, missing
from tests.integration.served import PASSWORD, serve

OUT = Path(__file__).resolve().parent / "images" / "console"
#: The accounts the pictures are taken as: one holding every role (the whole menu), and the proposer of a change.
PEOPLE = {"admin": ["admin", "compliance", "steward", "operator"], "officer": ["compliance"]}
REASON = "complaint CMP-2026-118 about a rejected row"
CHANGE = "change request CR-2026-31: checkout shows credit limits"
FINANCIAL = "    select: {entity: customer, class: financial}\n    action: "


def main(argv: list[str] | None = None) -> int:
    """Build, serve and photograph the demo estate; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG files")
    args = parser.parse_args(argv)
    reason = missing()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="officehub-screenshots-") as tmp:
        folder = demo_estate(Path(tmp) / "demo", PEOPLE, added_by="user:it-admin")
        served = serve(folder)
        try:
            for page in photograph(served.url, Path(tmp), args.out):
                print(page)
        finally:
            served.stop()
    return 0


def photograph(url: str, tmp: Path, out: Path) -> list[Path]:
    """Every page's screenshot, in the order docs/console.md shows them."""
    officer = Person(browser(tmp / "officer"), url)
    admin = Person(browser(tmp / "admin"), url)
    try:
        shots = [admin.open("/").screenshot(out / "sign-in.png")]
        admin.sign_in("admin", PASSWORD)
        shots += [admin.screenshot(out / "overview.png")]
        shots += _operations(admin, out) + _reviews(admin, out)
        officer.open("/").sign_in("officer", PASSWORD)
        shots += _policies(officer, admin, out) + _compliance(admin, out)
        shots += [admin.follow("Users").screenshot(out / "users.png")]
        return shots
    finally:
        officer.driver.quit()
        admin.driver.quit()


def _operations(someone: Person, out: Path) -> list[Path]:
    """A run that quarantined records, and one quarantined record before and after its reveal."""
    someone.open("/pipelines/crm_customers_in")
    someone.follow(someone.driver.find_element("css selector", "main table tbody td a").text)
    shots = [someone.screenshot(out / "run.png")]
    shots += [someone.follow("Quarantine").screenshot(out / "quarantine.png")]
    first = someone.driver.find_element("css selector", "main table tbody tr td a")
    someone.follow(first.text)
    shots += [someone.screenshot(out / "quarantine-entry.png", at=_fields(someone))]
    someone.fill("reason", REASON).press("Reveal")
    return [*shots, someone.screenshot(out / "quarantine-revealed.png", at=_fields(someone))]


def _fields(someone: Person):
    """The heading of a quarantined record's fields (below it: the values, or the form to reveal them)."""
    return someone.driver.find_element("xpath", "//h3[.='Fields as the source sent them']")


def _reviews(someone: Person, out: Path) -> list[Path]:
    return [someone.follow("Reviews").screenshot(out / "reviews.png")]


def _policies(proposer: Person, signer: Person, out: Path) -> list[Path]:
    """The matrix, and a change proposed by one officer as a second one sees it."""
    shots = [signer.follow("Policies").screenshot(out / "policies.png")]
    proposer.open("/policies/change?file=policies/webshop.yaml")
    text = proposer.field("text").get_attribute("value")
    proposer.fill("text", text.replace(FINANCIAL + "drop", FINANCIAL + "allow")).fill("reason", CHANGE)
    shots += [proposer.screenshot(out / "policy-change.png")]
    proposer.press("Check and propose")
    signer.open(proposer.path.split("?")[0])
    return [*shots, signer.screenshot(out / "policy-proposal.png")]


def _compliance(someone: Person, out: Path) -> list[Path]:
    """The audit trail, a search for a data subject and one subject's page."""
    shots = [someone.follow("Audit").screenshot(out / "audit.png")]
    someone.follow("Subjects")
    someone.fill("q", _a_customer_name(someone)).press("Find")
    shots += [someone.screenshot(out / "subjects.png")]
    someone.follow(someone.driver.find_element("css selector", "main table tbody td a").text)
    return [*shots, someone.screenshot(out / "subject.png")]


def _a_customer_name(someone: Person) -> str:
    """The last name in the first pair of the review queue (a customer the hub holds)."""
    someone.open("/reviews")
    name = someone.driver.find_element("css selector", "main article table tbody tr td").text
    someone.open("/subjects")
    return name.split()[-1]


if __name__ == "__main__":
    sys.exit(main())
