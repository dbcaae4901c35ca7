"""The hub API fuzzed from its own OpenAPI description (schemathesis), on servers running for real on loopback.

Two estates are served: the demo, and the sentinel estate, whose every medical, criminal
and legal value carries a sentinel. Each gets API clients with agreements that withhold the
special categories (see :mod:`tests.integration.api_estates`). Every operation of the
description is called with tokens of every scope combination that matters, and with a
client that has no agreement (the ``all`` tokens may submit too), with generated parameters (valid and invalid) and with real
ids, vendor ids, e-mails and names of the estate mixed in, so that records are found.

Every response must be no 5xx, conform to the description (status, content type, body), be
no success for a token without the operation's scope or for a client without an agreement,
and carry no special-category value.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from officehub.canonical_model import ENTITIES, SPECIAL_CATEGORIES, layout
from officehub.config import load_project
from officehub.store.schema import TABLES
from tests.integration import api_estates
from tests.integration.api_estates import ALL_SCOPES, store_of
from tests.integration.sentinel_estate import SENTINELS
from tests.integration.served import Served, serve

pytestmark = pytest.mark.slow

#: Generated cases per operation, per generation mode and token: keeps the module within a few minutes.
EXAMPLES = 16
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
#: The scope each operation needs (the health check needs none).
NEEDS = {"/api/v1/{entity}/records/{canonical_id}": "read",
         "/api/v1/{entity}/systems/{system}/records/{vendor_id}": "read",
         "/api/v1/{entity}/search": "search", "/api/v1/{entity}/match": "search",
         "/api/v1/{entity}/changes": "changes", "/api/v1/{entity}/records": "submit", "/api/v1/health": None}
#: Token kinds per estate: (client, scopes).
TOKENS = {
    "demo": {"webshop-all": ("webshop", ALL_SCOPES), "webshop-read": ("webshop", ("read",)),
             "webshop-search": ("webshop", ("search",)), "webshop-changes": ("webshop", ("changes",)),
             "staff-directory-all": ("staff-directory", ALL_SCOPES), "kiosk-no-agreement": ("kiosk", ALL_SCOPES)},
    "sentinel": {"hr-portal-all": ("hr-portal", ALL_SCOPES), "hr-portal-read": ("hr-portal", ("read",)),
                 "hr-portal-search": ("hr-portal", ("search",)), "hr-portal-changes": ("hr-portal", ("changes",)),
                 "kiosk-no-agreement": ("kiosk", ALL_SCOPES)},
}


@dataclass
class Pools:
    """Real values of an estate to mix into generated requests, and the values that must never come out."""

    entities: list[str]
    canonical_ids: list[str]
    vendor_ids: list[tuple[str, str]]
    emails: list[str]
    names: list[str]
    forbidden: tuple[str, ...]


@dataclass
class Target:
    """One estate served: its folder, server, values and the tokens of every kind."""

    name: str
    folder: Path
    served: Served
    pools: Pools
    tokens: dict[str, tuple[str, tuple[str, ...], str]] = field(default_factory=dict)


def _pools(folder: Path, entities: list[str], forbidden: tuple[str, ...]) -> Pools:
    ids, vendor, emails, names = [], [], [], []
    with store_of(folder) as store, store.begin() as conn:
        for entity in entities:
            table = TABLES[entity]
            rows = conn.execute(sa.select(table).order_by(table.c.change_seq).limit(40)).mappings().all()
            ids += [r["canonical_id"] for r in rows]
            vendor += [(r["sole_system"], r["sole_vendor_id"]) for r in rows if r["sole_system"]]
            emails += [r["contact__email"] for r in rows if r.get("contact__email")]
            names += [r["name__last"] for r in rows if r.get("name__last")]
        xref = TABLES["xref"]
        vendor += [(r.system, r.vendor_id) for r in conn.execute(sa.select(xref).limit(40))]
    return Pools(entities, ids, vendor, emails, names, forbidden)


def _special_values(folder: Path) -> tuple[str, ...]:
    """Every medical, criminal and legal value the hub holds that no other field of its entity holds too
    (a background check's date may be another person's hire date)."""
    load_project(folder)  # installs the estate's declared entities
    found: set[str] = set()
    with store_of(folder) as store, store.begin() as conn:
        for entity in list(ENTITIES):
            leaves = layout(entity).fields
            special = [leaf.column for leaf in leaves if leaf.sensitivity in SPECIAL_CATEGORIES]
            others = [leaf.column for leaf in leaves if leaf.sensitivity not in SPECIAL_CATEGORIES]
            if not special:
                continue
            rows = conn.execute(sa.select(TABLES[entity])).mappings().all()
            plain = {str(row[c]) for row in rows for c in others if row[c] is not None}
            found |= {str(row[c]) for row in rows for c in special
                      if row[c] is not None and not isinstance(row[c], bool) and len(str(row[c])) >= 6} - plain
    return tuple(sorted(found))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder = api_estates.build_demo(tmp_path_factory.mktemp("openapi") / "demo")
    api_estates.merge_two_customers(folder)
    forbidden = _special_values(folder)
    assert len(forbidden) > 20, "the demo estate should hold special-category values to look for"
    yield from _serve("demo", folder, _pools(folder, ["customer", "employee"], forbidden))


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder = api_estates.build_sentinel(tmp_path_factory.mktemp("openapi") / "sentinel")
    yield from _serve("sentinel", folder, _pools(folder, ["employee"], SENTINELS))


def _serve(name: str, folder: Path, pools: Pools) -> Iterator[Target]:
    kinds = TOKENS[name]
    secrets = api_estates.tokens(folder, [(client, scopes, "valid") for client, scopes in kinds.values()])
    server = serve(folder)
    target = Target(name, folder, server, pools,
                    {kind: (client, scopes, secret) for (kind, (client, scopes)), secret in zip(kinds.items(), secrets)})
    yield target
    log = server.stop()
    assert "Traceback" not in log and "internal error" not in log, log[-3000:]


def _with_real_values(case: schemathesis.Case, data: st.DataObject, pools: Pools) -> None:
    """Replace some generated parameters by the estate's own (three times in four), so that records are found
    and released."""
    often = st.sampled_from([True, True, True, False])
    path = case.path_parameters or {}
    if "entity" in path and data.draw(often):
        path["entity"] = data.draw(st.sampled_from(pools.entities))
    if "canonical_id" in path and data.draw(often):
        path["canonical_id"] = data.draw(st.sampled_from(pools.canonical_ids))
    if "vendor_id" in path and data.draw(often):
        path["system"], path["vendor_id"] = data.draw(st.sampled_from(pools.vendor_ids))
    query = case.query if case.query is not None else {}
    if case.operation.path.endswith("/search") and pools.emails and data.draw(often):
        query["email"] = data.draw(st.sampled_from(pools.emails))
    if case.operation.path.endswith("/match") and pools.names and data.draw(often):
        query["last_name"] = data.draw(st.sampled_from(pools.names))
    if case.operation.path.endswith("/changes") and data.draw(often):
        query.pop("after", None)
    if query:
        case.query = query


@dataclass
class Outcome:
    """What one token's run saw."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def _run(target: Target, kind: str) -> Outcome:
    client, scopes, secret = target.tokens[kind]
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_url(f"{target.served.url}/openapi.json")
    outcome = Outcome()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == set(NEEDS), "the description's operations changed: update NEEDS"
    for operation in operations:
        modes = [schemathesis.GenerationMode.POSITIVE]
        if operation.path_parameters or operation.query:
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:
            _fuzz(target, operation, mode, scopes, client, headers, outcome)
    return outcome


def _fuzz(target: Target, operation: Any, mode: schemathesis.GenerationMode, scopes: tuple[str, ...], client: str,
          headers: dict[str, str], outcome: Outcome) -> None:
    needs = NEEDS[operation.path]

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def fuzz(case: schemathesis.Case, data: st.DataObject) -> None:
        if mode == schemathesis.GenerationMode.POSITIVE:
            _with_real_values(case, data, target.pools)
        response = case.call(base_url=target.served.url, headers=headers, timeout=30)
        outcome.cases += 1
        outcome.statuses[response.status_code] += 1
        where = f"{mode.value} {case.method} {case.formatted_path} {case.query}: {response.status_code}"
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # every problem is listed at the end, not the first
            outcome.problems.append(f"{where}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
        body = response.text
        leaked = [v for v in target.pools.forbidden if v in body]
        if leaked:
            outcome.problems.append(f"{where}: a special-category value left the hub ({len(leaked)} of them)")
        if response.status_code < 300 and needs is not None:
            if needs not in scopes:
                outcome.problems.append(f"{where}: answered without the scope '{needs}'")
            if client == "kiosk":
                outcome.problems.append(f"{where}: answered a client without an agreement")

    try:
        fuzz()
    except Unsatisfiable as exc:  # no valid case to generate: say so rather than pass silently
        outcome.problems.append(f"{mode.value} {operation.path}: {type(exc).__name__}: {str(exc)[:300]}")


def _assert_sound(target: Target, kind: str, outcome: Outcome, started: float) -> None:
    summary = (f"{target.name}/{kind}: {outcome.cases} cases in {time.monotonic() - started:.1f} s, "
               f"statuses {dict(sorted(outcome.statuses.items()))}")
    print(summary)
    assert outcome.cases >= EXAMPLES * 5, summary
    assert not outcome.problems, "\n".join([summary, *outcome.problems[:40]])


@pytest.mark.parametrize("kind", sorted(TOKENS["demo"]))
def test_the_demo_estates_api_keeps_to_its_description_and_its_policies(demo: Target, kind: str) -> None:
    started = time.monotonic()
    outcome = _run(demo, kind)
    _assert_sound(demo, kind, outcome, started)
    if kind in ("webshop-all", "webshop-read", "staff-directory-all"):
        assert outcome.statuses[200] >= EXAMPLES // 2, "real ids should find records"


@pytest.mark.parametrize("kind", sorted(TOKENS["sentinel"]))
def test_the_sentinel_estates_api_never_releases_a_special_category(sentinel: Target, kind: str) -> None:
    started = time.monotonic()
    outcome = _run(sentinel, kind)
    _assert_sound(sentinel, kind, outcome, started)
    if kind in ("hr-portal-all", "hr-portal-read"):
        assert outcome.statuses[200] >= EXAMPLES // 2, "real ids should find records"


def test_the_sentinel_estates_records_are_found_whole_but_without_special_categories(sentinel: Target) -> None:
    """The fuzzing above must see the sentinel estate's records: its people come out, their health does not."""
    import httpx

    _, _, secret = sentinel.tokens["hr-portal-all"]
    with httpx.Client(base_url=sentinel.served.url, headers={"Authorization": f"Bearer {secret}"}) as http:
        page = http.get("/api/v1/employee/changes").json()
        found = http.get("/api/v1/employee/search", params={"email": "taras@example.com"}).json()["records"]
    people = {c["fields"]["employee_number"] for c in page["changes"] if c["status"] == "active"}
    assert {"E-1", "E-2", "E-3"} <= people
    assert [r["fields"]["name"]["last"] for r in found] == ["Shevchuk"]
    body = str(page) + str(found)
    assert not [s for s in SENTINELS if s in body]
    for record in page["changes"]:
        assert not {"occupational_health_restrictions", "background_check", "litigation_hold"} & set(
            record.get("fields", {}))
