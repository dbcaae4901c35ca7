"""The fault campaign: `officehub` processes SIGKILLed at seeded random points of ingests, publishes
and site exchanges, on SQLite and PostgreSQL hub stores; after each kill a rerun must end exactly
where an uninterrupted run ends.

FAULT_POINTS (default 50, what `make test` runs) sets how many kill points in all, FAULT_SEED (default fixed) which ones.
A point is a number of progress units (see :mod:`tests.integration.fault_points`) drawn at random
below what the uninterrupted reference run reached, so the points spread over the whole run. A
failure prints the seed and every point that ended differently.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from officehub.config import load_project
from officehub.engine import sync
from tests.conftest import PG_ADMIN, copy_demo_config
from tests.integration.fault_points import (
    RunProgress,
    bytes_under,
    cli,
    files_state,
    hub_state,
    kill_at,
    measure,
    output_state,
)
from tests.integration.sshd import SshServer
from tests.integration.test_sites_exchange import SitePair, make_pair

pytestmark = pytest.mark.slow

POINTS = int(os.environ.get("FAULT_POINTS", "50"))
SEED = int(os.environ.get("FAULT_SEED", "20261204"))
SIZES = {"customers": 200, "employees": 40, "products": 60}  # a small estate: a point costs ~2 s
CAMPAIGN = [(store, kind) for kind in ("ingest", "publish", "site") for store in ("sqlite", "postgresql")]
TALLY: dict[tuple[str, str], tuple[int, int, int]] = {}  # (store, kind) → (points, killed mid-run, identical)


def points_for(combo: tuple[str, str]) -> int:
    """This combination's share of the FAULT_POINTS (spread evenly, the first ones taking the rest)."""
    i = CAMPAIGN.index(combo)
    return POINTS // len(CAMPAIGN) + (i < POINTS % len(CAMPAIGN))


@contextmanager
def _pg_database(template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database (a copy of ``template`` if given), dropped afterwards."""
    name = f"officehub_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@dataclass
class Copy:
    """One copy of a prepared estate: its folder(s) and hub store."""

    folder: Path
    hub: str
    extra: dict = field(default_factory=dict)


@dataclass
class Campaign:
    """A prepared state to copy for each point, the steps a run takes from it, and what to compare."""

    copy: Callable[[Path], Iterator[Copy]]  # a context manager's generator
    # (command of the step, its progress probe, the same step in-process) per step of the run
    steps: Callable[[Copy], list[tuple[list[str], Callable[[], Callable[[], int]], Callable[[], None]]]]
    state: Callable[[Copy], object]


# --- ingest and publish: the demo estate ------------------------------------------------------


def _demo_steps(kind: str) -> Callable[[Copy], list]:
    def steps(c: Copy) -> list:
        project = load_project(c.folder)
        names = [n for n in project.pipelines_in_order() if project.config.pipelines[n].kind == kind]

        def rerun() -> None:
            results = sync(load_project(c.folder), names)
            assert {r.status for r in results} == {"succeeded"}, {r.pipeline: r.error for r in results}

        return [(cli(c.folder, "sync", *names), lambda: RunProgress(c.hub), rerun)]
    return steps


def _demo_state(c: Copy) -> object:
    return hub_state(c.hub), output_state(c.folder / "out", c.hub), output_state(c.folder / "data", c.hub)


def _demo_campaign(root: Path, store: str, kind: str, stack) -> Campaign:
    from officehub.demo.seed import seed_estate

    template = copy_demo_config(root / "template")
    seed_estate(template / "data", **SIZES)
    db = stack.enter_context(_pg_database()) if store == "postgresql" else None
    if db:
        _point_store(template, _pg_url(db))
    if kind == "publish":
        project = load_project(template)
        assert {r.status for r in sync(project, [n for n in project.pipelines_in_order()
                                                 if project.config.pipelines[n].kind == "ingest"])} == {"succeeded"}

    @contextmanager
    def copy(dest: Path) -> Iterator[Copy]:
        shutil.copytree(template, dest)
        if db is None:
            yield Copy(dest, f"sqlite:///{dest / '.officehub' / 'hub.db'}")
            return
        with _pg_database(template=db) as clone:
            _point_store(dest, _pg_url(clone), was=_pg_url(db))
            yield Copy(dest, _pg_url(clone))

    return Campaign(copy, _demo_steps(kind), _demo_state)


def _point_store(folder: Path, url: str, was: str = "sqlite:///.officehub/hub.db") -> None:
    """Point the project in ``folder`` at the hub store ``url`` instead of ``was``."""
    config = folder / "officehub.yaml"
    text = config.read_text()
    assert was in text
    config.write_text(text.replace(was, url))


# --- site exchange: kyiv sends bundles to lviv, whose hub store is the one under test ----------


def _site_campaign(root: Path, store: str, sshd: SshServer, mp: pytest.MonkeyPatch, stack) -> Campaign:
    db = stack.enter_context(_pg_database()) if store == "postgresql" else None
    pair = make_pair(root / "template", _pg_url(db) if db else "sqlite:///.officehub/hub.db", sshd, mp)
    pair.set_publish_batch(50)
    pair.customers_csv(range(1, 201))
    pair.sync_kyiv()
    pair.exchange()
    assert pair.sync_lviv().status == "succeeded"
    pair.customers_csv(range(151, 351), tag=" v2")  # 50 changed, 150 new: 4 new bundles; 4 acknowledged
    pair.sync_kyiv()

    @contextmanager
    def copy(dest: Path) -> Iterator[Copy]:
        for site in ("kyiv", "lviv"):
            shutil.copytree(root / "template" / site, dest / site)
        if db is None:
            hub = f"sqlite:///{dest / 'lviv' / '.officehub' / 'hub.db'}"
            yield _site_copy(dest, hub, pair)
            return
        with _pg_database(template=db) as clone:
            _point_store(dest / "lviv", _pg_url(clone), was=_pg_url(db))
            yield _site_copy(dest, _pg_url(clone), pair)

    return Campaign(copy, _site_steps, _site_state)


def _site_copy(dest: Path, hub: str, template: SitePair) -> Copy:
    copied = SitePair(dest / "kyiv", dest / "lviv", hub, template.sshd)
    copied.set_link(sftp=copied.sftp())
    return Copy(dest, hub, {"pair": copied})


def _site_steps(c: Copy) -> list:
    pair: SitePair = c.extra["pair"]

    def exchange_progress() -> Callable[[], int]:
        waiting = len(list(pair.outbox().glob("*")))
        sent = bytes_under(pair.inbox())
        return lambda: sent() + (waiting - len(list(pair.outbox().glob("*"))))

    def import_() -> None:
        assert pair.sync_lviv().status == "succeeded"

    exchange = (cli(pair.kyiv, "site", "exchange", "lviv"), exchange_progress, pair.exchange)
    return [exchange, (cli(pair.lviv, "sync", "kyiv_customers_in"), lambda: RunProgress(c.hub), import_), exchange]


# When the link last exchanged, and the acknowledgement's time with the signature over it.
SITE_VOLATILE = ("last_exchange_at", "last_error_at", "updated_at", "signature")


def _without_times(files: dict[str, bytes]) -> dict[str, object]:
    def strip(doc: object) -> object:
        if isinstance(doc, dict):
            return {k: strip(v) for k, v in doc.items() if k not in SITE_VOLATILE}
        return doc
    return {name: strip(json.loads(data)) if name.endswith(".json") else data for name, data in files.items()}


def _site_state(c: Copy) -> object:
    pair: SitePair = c.extra["pair"]
    return (hub_state(c.hub), _without_times(files_state(pair.outbox())), files_state(pair.inbox()),
            _without_times(files_state(pair.lviv / "site" / "exchange" / "acks")))


# --- the campaign -------------------------------------------------------------------------------


@contextmanager
def _campaign(root: Path, store: str, kind: str, request: pytest.FixtureRequest) -> Iterator[Campaign]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        if kind == "site":
            mp = stack.enter_context(pytest.MonkeyPatch.context())
            yield _site_campaign(root, store, request.getfixturevalue("sshd"), mp, stack)
        else:
            yield _demo_campaign(root, store, kind, stack)


def _run_to_end(campaign: Campaign, c: Copy, kill: tuple[int, int] | None) -> bool:
    """Every step in-process, but step ``kill[0]`` first as a CLI process killed at ``kill[1]`` units."""
    killed = False
    for i, (command, progress, rerun) in enumerate(campaign.steps(c)):
        if kill is not None and i == kill[0]:
            probe = progress()
            try:
                killed = kill_at(command, probe, kill[1])
            finally:
                getattr(probe, "close", lambda: None)()
        rerun()
    return killed


def _where_differs(expected: object, got: object, path: str = "") -> list[str]:
    """The parts (state component, table or file) where ``got`` differs from ``expected``, and how many rows."""
    if isinstance(expected, tuple) and isinstance(got, tuple):
        return [w for i, (e, g) in enumerate(zip(expected, got)) for w in _where_differs(e, g, f"{path}{i}.")]
    if isinstance(expected, dict) and isinstance(got, dict):
        return [w for key in sorted(set(expected) | set(got), key=str)
                for w in _where_differs(expected.get(key), got.get(key), f"{path}{key}")]
    if expected == got:
        return []
    if isinstance(expected, list) and isinstance(got, list):
        return [f"{path} ({len(expected)} vs {len(got)} rows, {len(set(map(repr, got)) - set(map(repr, expected)))} "
                "not in the reference)"]
    return [path]


@pytest.mark.parametrize(("store", "kind"), CAMPAIGN)
def test_a_run_killed_at_random_points_resumes_to_the_uninterrupted_result(
        store: str, kind: str, tmp_path: Path, request: pytest.FixtureRequest):
    rng = random.Random(f"{SEED}-{store}-{kind}")
    with _campaign(tmp_path, store, kind, request) as campaign:
        # The reference: each step as an uninterrupted CLI process, measured in progress units.
        reach: list[int] = []
        with campaign.copy(tmp_path / "reference") as ref:
            for command, progress, _ in campaign.steps(ref):
                probe = progress()
                try:
                    reach.append(measure(command, probe)[0])
                finally:
                    getattr(probe, "close", lambda: None)()
            expected = campaign.state(ref)
        points = [(step, rng.randrange(1, max(2, reach[step])))
                  for step in (rng.randrange(len(reach)) for _ in range(points_for((store, kind))))]
        killed, differ = 0, []
        for n, point in enumerate(points):
            with campaign.copy(tmp_path / f"point{n}") as c:
                killed += _run_to_end(campaign, c, point)
                got = campaign.state(c)
                if got != expected:
                    differ.append((point, _where_differs(expected, got)))
            shutil.rmtree(tmp_path / f"point{n}", ignore_errors=True)
    TALLY[(store, kind)] = (len(points), killed, len(points) - len(differ))
    print(f"\nfault campaign {store}/{kind}: seed {SEED}, {len(points)} kill points (step, units) {points} "
          f"of reach {reach}; {killed} killed mid-run; {len(points) - len(differ)} identical")
    assert not differ, (f"FAULT_SEED={SEED} {store}/{kind}: the rerun after a kill at (step, units) "
                        f"{[point for point, _ in differ]} "
                        f"ended differently from the uninterrupted run (reach per step {reach}), in: {differ}")
    # Most points must land mid-run, or the campaign proves little.
    assert killed >= len(points) * 0.6, f"FAULT_SEED={SEED}: only {killed} of {points} landed mid-run"
