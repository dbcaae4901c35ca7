"""``python -m bench.linkage.scale``: how fast a hub on PostgreSQL matches a batch of new records.

For each size N the hub store (a PostgreSQL database) holds N golden customer records, then a
new system's batch of 10,000 records is synced; half of them are people the hub already holds,
written with small typos. The figure is that sync's records per second, under

- **fuzzy**: the weighted rules of docs/identity.md (blocks on birth date and on postcode;
  name, birth date and address scored), and
- **probabilistic**: the Fellegi–Sunter model that ``match train`` proposes and fits on this
  hub (link at 0.99, review from 0.5).

The target: 10,000 new records against 1,000,000 golden records, no slower per record with
the model than with the fuzzy rules.

How a size is built, all through the hub itself:

1. Synthetic people (seeded): names drawn by their US census frequency (Faker's en_US lists)
   with a tail of rarer surnames and given names, birth dates from 1930 to 2003, 9,000
   four-digit postcodes each in one town, a house number and street. Two SQLite systems make
   the N golden records: ``registry`` (N - 10,000 people) and ``intake`` (10,000: half of
   them registry people with typos), synced with no matching, as a hub is before matching is
   switched on (so ``match train`` has two systems' records to learn from).
2. ``match train customer`` on that hub (timed, reported apart).
3. Per rule set, a copy of the hub database (``CREATE DATABASE … TEMPLATE``) gets the rule set's
   match keys: the hub's own ``GoldenWriter.refresh_keys``, the first step of ``match rerun``
   (an ingest with the rules on would make the same keys, after looking up each record's
   own-system neighbours for nothing). Then ``officehub sync clinic_in`` runs as a command,
   and the hub's own figure of the run's seconds is taken.

A timed sync that runs past ``LINKAGE_SCALE_TIMEOUT`` is stopped and reported as slower than
that. Writes ``results/linkage/scale.md`` and ``scale.json``.

Environment:

- ``LINKAGE_SCALE_SIZES`` (100000,300000,1000000): golden records per size.
- ``LINKAGE_SCALE_BATCH`` (10000): the new system's records (half of them true matches).
- ``LINKAGE_SCALE_TIMEOUT`` (300): seconds a timed sync may take before it is stopped.
- ``LINKAGE_SCALE_SEED`` (20261204), ``LINKAGE_WORKDIR`` (a temporary folder), ``BENCH_PG``
  (the PostgreSQL server, as for ``python -m bench``), ``BENCH_RESULTS``.
"""

import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from bench.db import pg_connect, pg_fresh_database
from bench.linkage import officehub_side
from bench.lock import exclusive
from bench.settings import PG_ROOT, RESULTS_DIR, pg_url

ENTITY = "customer"
BASE_DB = "linkage_bench"
RUN_DB = "linkage_bench_run"
MODEL_FILE = Path("identity") / f"{ENTITY}.model.yaml"
ACTOR = "bench:linkage-scale"
COLUMNS = ("id", "first_name", "last_name", "birth_date", "street", "city", "postcode")
FIELDS: dict[str, Any] = {
    "name.first": "first_name", "name.last": "last_name",
    "birth_date": {"from": "birth_date", "transforms": [{"date": "%Y-%m-%d"}], "on_error": "flag"},
    "address.street": "street", "address.city": "city", "address.postal_code": "postcode",
}
#: The fuzzy rules of docs/identity.md.
FUZZY = {"fuzzy": {
    "blocks": [["birth_date"], ["address__postal_code"]],
    "fields": {"name": {"columns": ["name__first", "name__last"], "method": "name", "weight": 0.40},
               "birth_date": {"columns": ["birth_date"], "method": "date", "weight": 0.35},
               "address": {"columns": ["address__street", "address__postal_code", "address__city"],
                           "method": "text", "weight": 0.25}},
    "link_at": 0.95, "review_at": 0.75}}
PROBABILISTIC = {"probabilistic": {"model": MODEL_FILE.as_posix(), "link_at": 0.99, "review_at": 0.5}}
RULE_SETS = {"fuzzy": FUZZY, "probabilistic": PROBABILISTIC}
TARGET_SIZE = 1_000_000

Row = tuple[str, ...]


@dataclass(frozen=True)
class Knobs:
    """One run's settings, from the environment."""

    sizes: tuple[int, ...]
    batch: int
    timeout: float
    seed: int
    workdir: Path | None

    @classmethod
    def from_env(cls) -> "Knobs":
        """LINKAGE_SCALE_SIZES, LINKAGE_SCALE_BATCH, LINKAGE_SCALE_TIMEOUT, LINKAGE_SCALE_SEED, LINKAGE_WORKDIR."""
        env = os.environ
        sizes = tuple(int(s.replace("_", "")) for s in env.get("LINKAGE_SCALE_SIZES", "100000,300000,1000000")
                      .split(",") if s.strip())
        workdir = env.get("LINKAGE_WORKDIR")
        knobs = cls(sizes, int(env.get("LINKAGE_SCALE_BATCH", "10000")),
                    float(env.get("LINKAGE_SCALE_TIMEOUT", "300")), int(env.get("LINKAGE_SCALE_SEED", "20261204")),
                    Path(workdir) if workdir else None)
        if too_small := [n for n in sizes if n <= knobs.batch]:
            raise SystemExit(f"every size must hold more than the batch of {knobs.batch:,} records: {too_small}")
        return knobs


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- synthetic people -------------------------------------------------------------------------
_SYLLABLES = ("ka", "ro", "min", "del", "var", "to", "bel", "shi", "na", "gor", "lin", "ev", "mar", "su", "pet",
              "an", "kov", "ley", "dra", "os", "ti", "ber", "hal", "qu", "zen", "dor", "fi", "mo", "rak", "wen")
_STREET_KINDS = ("Street", "Road", "Avenue", "Lane", "Place", "Crescent", "Drive", "Court", "Parade", "Close")
_TOWN_ENDS = ("ville", "ton", " Hill", "field", " Park", "wood", "dale", " Creek", "bury", " Heights")


class People:
    """A seeded source of synthetic people and of the typos a clerk makes in them."""

    def __init__(self, seed: int) -> None:
        from faker.providers.person.en_US import Provider

        self.rng = random.Random(seed)
        tail = sorted({"".join(p).title() for p in _combinations(self.rng, 40_000)})
        self.first = _Weighted({**_shares(Provider.first_names_female, 0.45), **_shares(Provider.first_names_male, 0.45)},
                               tail[:8_000], 0.10)
        self.last = _Weighted(_shares(Provider.last_names, 0.55), tail[8_000:], 0.45)
        names = list(Provider.last_names) + list(Provider.first_names_male)
        self.streets = [f"{name} {kind}" for name in names for kind in _STREET_KINDS[:4]]
        self.towns = [f"{name}{end}" for name in names for end in _TOWN_ENDS[:3]]

    def make(self, count: int, prefix: str) -> list[Row]:
        """``count`` people, ids ``{prefix}{n}``."""
        rng = self.rng
        firsts, lasts = self.first.draw(rng, count), self.last.draw(rng, count)
        born = date(1930, 1, 1)
        out = []
        for n, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
            postcode = rng.randrange(1000, 10_000)
            out.append((f"{prefix}{n}", first, last, (born + timedelta(days=rng.randrange(27_000))).isoformat(),
                        f"{rng.randrange(1, 300)} {rng.choice(self.streets)}",
                        self.towns[(postcode * 7919) % len(self.towns)], str(postcode)))
        return out

    def retyped(self, person: Row, new_id: str) -> Row:
        """The same person as another clerk keyed them: one or two small mistakes, never in both
        the birth date and the postcode (a record keeps one of the fuzzy rules' blocks)."""
        rng = self.rng
        fields = dict(zip(COLUMNS, person, strict=True)) | {"id": new_id}
        edits = rng.sample(["first_name", "last_name", "street", "birth_date", "postcode"], rng.choice((1, 2)))
        if "birth_date" in edits and "postcode" in edits:
            edits.remove("postcode")
        for column in edits:
            if column == "birth_date":
                fields[column] = _date_typo(rng, fields[column])
            else:
                fields[column] = _typo(rng, fields[column], "0123456789" if column == "postcode" else "aeiounrst")
        return tuple(fields[c] for c in COLUMNS)


def _combinations(rng: random.Random, count: int) -> Iterator[tuple[str, ...]]:
    for _ in range(count):
        yield tuple(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))


def _shares(weights: dict[str, float], mass: float) -> dict[str, float]:
    total = sum(weights.values())
    return {name: mass * w / total for name, w in weights.items()}


class _Weighted:
    """Names by frequency: the common ones by their share, ``tail`` sharing ``tail_mass`` evenly."""

    def __init__(self, common: dict[str, float], tail: Sequence[str], tail_mass: float) -> None:
        self.names = [*common, *tail]
        self.cumulative = list(accumulate([*common.values(), *([tail_mass / len(tail)] * len(tail))]))

    def draw(self, rng: random.Random, count: int) -> list[str]:
        """``count`` names drawn by frequency."""
        return rng.choices(self.names, cum_weights=self.cumulative, k=count)


def _typo(rng: random.Random, text: str, letters: str = "aeiounrst") -> str:
    """One letter replaced, dropped, or swapped with the next (never the first)."""
    if len(text) < 3:
        return text + rng.choice(letters)
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + rng.choice(letters) + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def _date_typo(rng: random.Random, iso: str) -> str:
    day = date.fromisoformat(iso)
    if day.day <= 12 and rng.random() < 0.5:
        return date(day.year, day.day, day.month).isoformat()  # day and month swapped
    return (day + timedelta(days=rng.choice((-10, -1, 1, 10)))).isoformat()


@dataclass(frozen=True)
class Estate:
    """The three systems' rows and the true pairs of the timed batch (clinic id, registry id)."""

    registry: list[Row]
    intake: list[Row]
    clinic: list[Row]
    truth: frozenset[tuple[str, str]]


def generate(size: int, batch: int, seed: int) -> Estate:
    """A hub's worth of people (``size`` golden records) and the new batch, the same for the same arguments."""
    people = People(seed)
    registry = people.make(size - batch, "R")
    # Two halves of one draw: no registry person is in both intake and clinic, so each true pair
    # of the batch has one golden record to find (the hub holds intake's copies apart, unmatched).
    picked = people.rng.sample(range(len(registry)), batch // 2 * 2)
    intake, _ = _mixed(people, registry, picked[: batch // 2], batch, "I")
    clinic, truth = _mixed(people, registry, picked[batch // 2:], batch, "C")
    return Estate(registry, intake, clinic, truth)


def _mixed(people: People, registry: list[Row], picked: list[int], count: int,
           prefix: str) -> tuple[list[Row], frozenset[tuple[str, str]]]:
    """``count`` records, the ``picked`` registry people retyped, the rest new to the hub; and the true pairs."""
    retyped = [people.retyped(registry[i], f"{prefix}{n}") for n, i in enumerate(picked)]
    truth = frozenset((row[0], registry[i][0]) for row, i in zip(retyped, picked, strict=True))
    return retyped + people.make(count - len(picked), f"{prefix}N"), truth


# -- the systems and the project ----------------------------------------------------------------
def write_system(path: Path, rows: list[Row]) -> None:
    """A SQLite database with one ``people`` table of text columns, keyed by ``id``."""
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(f"CREATE TABLE people ({', '.join(f'{c} TEXT' for c in COLUMNS)}, PRIMARY KEY (id))")
        db.executemany(f"INSERT INTO people VALUES ({', '.join('?' for _ in COLUMNS)})", rows)


def write_project(folder: Path, database: str, systems: dict[str, Path], match: dict[str, Any]) -> Path:
    """officehub.yaml: the hub store on PostgreSQL, one ingest per system, ``match`` as the customer rules."""
    return officehub_side.write_project(folder, pg_url(database, "+psycopg"), systems, FIELDS, {ENTITY: {"match": match}})


# -- the hub -------------------------------------------------------------------------------------
def _sync(folder: Path, pipelines: list[str]) -> dict[str, Any]:
    """Run ``pipelines`` in this process; their figures (a failed run stops the benchmark)."""
    from officehub.config import load_project
    from officehub.engine import sync

    results = sync(load_project(folder), pipelines)
    if failed := [f"{r.pipeline}: {r.error}" for r in results if r.status != "succeeded"]:
        raise RuntimeError("officehub sync failed: " + "; ".join(failed))
    return {r.pipeline: {"seconds": round(r.seconds, 2), **vars(r.metrics)} for r in results}


def _train(folder: Path) -> dict[str, Any]:
    """``match train customer`` on the hub; seconds and what it made."""
    from officehub.config import load_project
    from officehub.engine import open_store
    from officehub.services import matching

    project = load_project(folder)
    store = open_store(project)
    try:
        started = time.perf_counter()
        model = matching.train(project, store, ACTOR, ENTITY).model
        seconds = time.perf_counter() - started
    finally:
        store.close()
    assert model.trained is not None
    return {"seconds": round(seconds, 2), "records": model.trained.records,
            "blocking": {"+".join(rule.columns): rule.pairs for rule in model.blocking},
            "blocked_pairs": model.trained.blocked_pairs}


def _build_keys(folder: Path, page: int = 20_000) -> float:
    """The golden records' match keys under the project's rules, as ``match rerun`` rebuilds them
    (all cleared, then added page by page); seconds."""
    import sqlalchemy as sa

    from officehub.config import load_project
    from officehub.engine import open_store
    from officehub.engine.ingest import writer_for
    from officehub.store import matches
    from officehub.store.schema import TABLES

    project = load_project(folder)
    writer = writer_for(project, ENTITY)
    assert writer.matcher is not None
    table = TABLES[ENTITY]
    columns = [table.c.canonical_id, table.c.status, *(table.c[c] for c in writer.matcher.columns)]
    store = open_store(project)
    started = time.perf_counter()
    try:
        with store.begin() as conn:
            matches.clear_keys(conn, ENTITY)
        after = ""
        while True:
            with store.begin() as conn:
                rows = [dict(r._mapping) for r in conn.execute(
                    sa.select(*columns).where(table.c.canonical_id > after).order_by(table.c.canonical_id).limit(page))]
                writer.refresh_keys(conn, rows, replace=False)
            if not rows:
                break
            store.grew({"match_key": ("entity", "key", "value", "canonical_id")}, len(rows))
            after = rows[-1]["canonical_id"]
    finally:
        store.close()
    return time.perf_counter() - started


def _timed_sync(folder: Path, pipeline: str, timeout: float) -> dict[str, Any]:
    """``officehub sync PIPELINE --json`` as a command; the run's figures, or ``timed_out`` past ``timeout``."""
    command = [sys.executable, "-m", "officehub", "-p", str(folder), "sync", pipeline, "--json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timed_out": True, "seconds": timeout}
    if done.returncode != 0:
        raise RuntimeError(f"officehub sync {pipeline} failed ({done.returncode}): {done.stderr[-2000:]}")
    (run,) = json.loads(done.stdout)
    return {"timed_out": False, **run}


def _clone(template: str, database: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ROOT}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}" STRATEGY FILE_COPY')


def _drop(database: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ROOT}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _analyze(database: str) -> None:
    with pg_connect(database, autocommit=True) as conn:
        conn.execute("ANALYZE")


def _accuracy(database: str, truth: frozenset[tuple[str, str]]) -> dict[str, int]:
    """How the batch's records were linked: right, wrong, true pairs missed, pairs queued."""
    with pg_connect(database) as conn:
        # A batch record linked to a golden record is in xref with it; one on its own keeps the sole form.
        links = {(c, r) for c, r in conn.execute(
            "SELECT c.vendor_id, r.vendor_id FROM xref c JOIN xref r ON r.canonical_id = c.canonical_id "
            "AND r.entity = c.entity WHERE c.system = 'clinic' AND r.system <> 'clinic' AND c.entity = %s",
            (ENTITY,))}
        queued = conn.execute("SELECT count(*) FROM match_review WHERE status = 'pending'").fetchone()
    return {"linked": len(links), "linked_right": len(links & truth), "linked_wrong": len(links - truth),
            "missed": len(truth - links), "queued": queued[0] if queued else 0}


# -- one size ------------------------------------------------------------------------------------
def _measure_size(size: int, knobs: Knobs, workdir: Path) -> dict[str, Any]:
    """Build the hub of ``size`` golden records, train, then time the batch under each rule set."""
    started = time.perf_counter()
    estate = generate(size, knobs.batch, knobs.seed)
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    systems = {"registry": data / "registry.db", "intake": data / "intake.db", "clinic": data / "clinic.db"}
    for name, rows in (("registry", estate.registry), ("intake", estate.intake), ("clinic", estate.clinic)):
        write_system(systems[name], rows)
    _log(f"{size:,}: {len(estate.registry) + len(estate.intake):,} people written "
         f"({time.perf_counter() - started:.0f} s); syncing them into a fresh hub")
    _drop(RUN_DB)
    pg_fresh_database(BASE_DB)
    base = write_project(workdir / "base", BASE_DB, systems, {"keys": []})
    loaded = _sync(base, ["registry_in", "intake_in"])
    _log(f"{size:,}: hub loaded ({sum(r['seconds'] for r in loaded.values()):.0f} s); match train customer")
    trained = _train(base)
    _log(f"{size:,}: trained in {trained['seconds']:.0f} s; blocking pairs {trained['blocking']}")
    out: dict[str, Any] = {"golden_records": size, "batch": knobs.batch, "true_pairs": len(estate.truth),
                           "load": loaded, "train": trained, "rule_sets": {}}
    for name, match in RULE_SETS.items():
        out["rule_sets"][name] = _measure_rules(name, match, base, systems, estate, knobs, workdir)
    _drop(RUN_DB)
    _drop(BASE_DB)
    return out


def _measure_rules(name: str, match: dict[str, Any], base: Path, systems: dict[str, Path], estate: Estate,
                   knobs: Knobs, workdir: Path) -> dict[str, Any]:
    """Copy the hub, give it ``match``'s keys, and time the batch's sync."""
    folder = workdir / name
    shutil.rmtree(folder, ignore_errors=True)
    write_project(folder, RUN_DB, systems, match)
    (folder / MODEL_FILE).parent.mkdir(parents=True)
    shutil.copyfile(base / MODEL_FILE, folder / MODEL_FILE)
    _clone(BASE_DB, RUN_DB)
    keys_seconds = _build_keys(folder)
    _analyze(RUN_DB)
    _log(f"  {name}: match keys built ({keys_seconds:.0f} s); syncing the batch")
    run = _timed_sync(folder, "clinic_in", knobs.timeout)
    found = {} if run["timed_out"] else _accuracy(RUN_DB, estate.truth)
    rate = knobs.batch / run["seconds"] if run["seconds"] else None
    _log(f"  {name}: {'more than ' if run['timed_out'] else ''}{run['seconds']:.1f} s, "
         f"{'under ' if run['timed_out'] else ''}{rate:,.0f} records/s {found}")
    return {"seconds": run["seconds"], "records_per_s": rate, "timed_out": run["timed_out"],
            "keys_seconds": round(keys_seconds, 2), "run": run, **found}


# -- the report -----------------------------------------------------------------------------------
def _target(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Matching at 1,000,000 golden records: the model no slower per record than the fuzzy rules."""
    at = next((s for s in sizes if s["golden_records"] == TARGET_SIZE), None)
    if at is None:
        return {"target": "probabilistic ≥ fuzzy records/s at 1,000,000 golden records", "met": None}
    fuzzy, model = at["rule_sets"]["fuzzy"], at["rule_sets"]["probabilistic"]
    ratio = model["records_per_s"] / fuzzy["records_per_s"] if fuzzy["records_per_s"] else None
    met = None if fuzzy["timed_out"] else (not model["timed_out"] and ratio is not None and ratio >= 1)
    return {"target": "probabilistic ≥ fuzzy records/s at 1,000,000 golden records", "ratio": ratio, "met": met}


def _rate(rules: dict[str, Any]) -> str:
    rate = rules["records_per_s"]
    return f"< {rate:,.0f} (stopped at {rules['seconds']:.0f} s)" if rules["timed_out"] else \
        f"{rate:,.0f} ({rules['seconds']:.1f} s)"


def _quality(rules: dict[str, Any]) -> str:
    if rules["timed_out"]:
        return "–"
    return f"{rules['linked_right']:,} right, {rules['linked_wrong']:,} wrong, {rules['queued']:,} queued"


def markdown(report: dict[str, Any]) -> str:
    """The results as Markdown."""
    env = report["environment"]
    lines = [f"# Matching throughput on PostgreSQL ({report['date']})", "",
             f"A batch of {report['batch']:,} new records (half of them people the hub holds, with typos) synced "
             f"into a hub of N golden customer records; records per second of that sync. {env['cpus']} cores, "
             f"PostgreSQL {env['postgres']}, Python {env['python']}.", "",
             "| golden records | fuzzy rules: records/s | probabilistic: records/s | fuzzy links | "
             "probabilistic links | train |", "|---:|---:|---:|---|---|---:|"]
    for size in report["sizes"]:
        fuzzy, model = size["rule_sets"]["fuzzy"], size["rule_sets"]["probabilistic"]
        lines.append(f"| {size['golden_records']:,} | {_rate(fuzzy)} | {_rate(model)} | {_quality(fuzzy)} | "
                     f"{_quality(model)} | {size['train']['seconds']:.0f} s |")
    target = report["target"]
    verdict = {True: "met", False: "NOT met", None: "not measured"}[target["met"]]
    ratio = f" (probabilistic / fuzzy: {target['ratio']:.2f})" if target.get("ratio") else ""
    lines += ["", f"Target, {target['target']}: **{verdict}**{ratio}.", ""]
    return "\n".join(lines)


def _environment() -> dict[str, Any]:
    from importlib.metadata import version

    with pg_connect("postgres") as conn:
        server = conn.execute("SHOW server_version").fetchone()
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "postgres": server[0] if server else None,
            "packages": {p: version(p) for p in ("officehub", "rapidfuzz", "SQLAlchemy", "psycopg")}}


def main() -> int:
    """Measure every size, print and write the results."""
    knobs = Knobs.from_env()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="linkage-scale-") as scratch:
        workdir = knobs.workdir or Path(scratch)
        sizes = [_measure_size(size, knobs, workdir / str(size)) for size in knobs.sizes]
    report = {"date": datetime.now(UTC).replace(microsecond=0).isoformat(), "batch": knobs.batch,
              "seed": knobs.seed, "timeout_s": knobs.timeout, "total_seconds": round(time.perf_counter() - started),
              "thresholds": {"fuzzy": {k: FUZZY["fuzzy"][k] for k in ("link_at", "review_at")},
                             "probabilistic": {k: PROBABILISTIC["probabilistic"][k] for k in ("link_at", "review_at")}},
              "sizes": sizes, "environment": _environment()}
    report["target"] = _target(sizes)
    text = markdown(report)
    print(text)
    out = RESULTS_DIR / "linkage"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.md").write_text(text, encoding="utf-8")
    (out / "scale.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    with exclusive():
        raise SystemExit(main())
