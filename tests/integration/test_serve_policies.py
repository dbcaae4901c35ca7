"""Policies in the console: the matrix in force, and a change that takes effect only when a second officer
signs it off — after which the hub API applies it at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_demo_config
from tests.helpers import sync_all
from tests.integration.served import (
    Console,
    Served,
    add_users,
    allow_many_sign_ins,
    audit_entries,
    issue_token,
    serve,
    signed_in,
)

pytestmark = pytest.mark.slow

REASON = "change request CR-2026-31: checkout shows credit limits"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from officehub.demo.seed import seed_estate

    folder = copy_demo_config(tmp_path_factory.mktemp("policies") / "demo")
    allow_many_sign_ins(folder)
    seed_estate(folder / "data", customers=60, employees=20, products=20)
    results = sync_all(folder)
    assert {r.status for r in results.values()} == {"succeeded"}, {n: r.error for n, r in results.items()}
    add_users(folder, {"officer-a": ["compliance"], "officer-b": ["compliance"], "viewer": ["viewer"],
                       "steward": ["steward"]})
    return folder


@pytest.fixture(scope="module")
def served(estate: Path) -> Iterator[Served]:
    server = serve(estate)
    yield server
    server.stop()






def allowing_credit_limits(folder: Path) -> str:
    text = (folder / "policies" / "webshop.yaml").read_text()
    changed = text.replace("    select: {entity: customer, class: financial}\n    action: drop",
                           "    select: {entity: customer, class: financial}\n    action: allow")
    assert changed != text
    return changed


def propose(console: Console, file: str, text: str, reason: str = REASON):
    return console.post("/policies/proposals", {"file": file, "text": text, "reason": reason},
                        token_from="/policies/change")


def test_every_role_sees_the_matrix_of_what_each_destination_receives(served: Served) -> None:
    page = signed_in(served, "viewer").get("/policies?entity=customer")
    assert page.status_code == 200
    assert "webshop-checkout-2026" in page.text and "no-customer-financial-data" in page.text
    assert "Propose a change" not in page.text  # a viewer cannot propose
    assert signed_in(served, "steward").get("/policies/change").status_code == 403


def test_a_text_that_is_not_a_valid_policy_is_refused_with_its_lines_and_nothing_is_proposed(
        served: Served, estate: Path) -> None:
    officer = signed_in(served, "officer-a")
    before = len(audit_entries(estate, "policy.change.propose"))
    bad = propose(officer, "policies/webshop.yaml", "name: broken\nrules:\n  - id: x\n    action: teleport\n")
    assert bad.status_code == 400 and "policies/webshop.yaml" in bad.text
    elsewhere = propose(officer, "elsewhere/webshop.yaml", allowing_credit_limits(estate))
    assert elsewhere.status_code == 400 and "would not take effect" in elsewhere.text
    assert len(audit_entries(estate, "policy.change.propose")) == before


def test_a_change_takes_effect_only_when_a_second_officer_signs_it_off(served: Served, estate: Path) -> None:
    token = issue_token(estate, "webshop", ["read", "changes"])
    with served.api(token) as api:
        first = api.get("/api/v1/customer/changes", params={"limit": 200}).json()["changes"]
    assert not any("credit_limit" in r.get("fields", {}) for r in first)

    a, b = signed_in(served, "officer-a"), signed_in(served, "officer-b")
    made = propose(a, "policies/webshop.yaml", allowing_credit_limits(estate).replace("\n", "\r\n"))
    assert made.status_code == 303
    proposal = int(re.search(r"/policies/proposals/(\d+)", made.headers["location"]).group(1))
    page = b.get(f"/policies/proposals/{proposal}")
    assert "credit_limit.amount" in page.text and "Sign off" in page.text
    assert "Sign off" not in a.get(f"/policies/proposals/{proposal}").text

    own = a.post(f"/policies/proposals/{proposal}/approve", token_from="/policies")
    assert own.status_code == 400 and "second person" in own.text
    assert "action: drop" in (estate / "policies" / "webshop.yaml").read_text().split("financial}")[1][:20]

    preview = b.post(f"/policies/proposals/{proposal}/preview", token_from="/policies")
    assert preview.status_code == 200 and "Would receive" in preview.text
    assert audit_entries(estate, "policy.preview")[0]["actor"] == "console:officer-b"

    signed = b.post(f"/policies/proposals/{proposal}/approve", token_from="/policies")
    assert signed.status_code == 303 and "in%20force" in signed.headers["location"]
    assert "action: allow" in (estate / "policies" / "webshop.yaml").read_text().split("financial}")[1][:20]
    assert b"\r\n" not in (estate / "policies" / "webshop.yaml").read_bytes()  # a form's CRLF is not kept
    approved = audit_entries(estate, "policy.change.approve")[0]
    assert approved["actor"] == "console:officer-b" and approved["detail"]["proposed_by"] == "console:officer-a"
    assert audit_entries(estate, "policy.change.propose")[0]["actor"] == "console:officer-a"

    with served.api(token) as api:
        after = api.get("/api/v1/customer/changes", params={"limit": 200}).json()["changes"]
    assert any("credit_limit" in r.get("fields", {}) for r in after)


def test_a_proposal_made_against_policies_that_changed_since_is_refused(served: Served, estate: Path) -> None:
    a, b = signed_in(served, "officer-a"), signed_in(served, "officer-b")
    text = (estate / "policies" / "reporting.yaml").read_text()
    first = propose(a, "policies/reporting.yaml", text.replace("assessment LIA-2026-03", "assessment LIA-2026-04"))
    second = propose(a, "policies/reporting.yaml", text.replace("assessment LIA-2026-03", "assessment LIA-2026-05"))
    first_id, second_id = (int(r.headers["location"].rsplit("/", 1)[1].split("?")[0]) for r in (first, second))
    assert b.post(f"/policies/proposals/{first_id}/approve", token_from="/policies").status_code == 303
    stale = b.post(f"/policies/proposals/{second_id}/approve", token_from="/policies")
    assert stale.status_code == 400 and "changed since" in stale.text
    assert "LIA-2026-04" in (estate / "policies" / "reporting.yaml").read_text()
    assert a.post(f"/policies/proposals/{second_id}/withdraw", token_from="/policies").status_code == 303
