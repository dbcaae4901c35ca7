"""officehub itself, through its project config: ingest MariaDB → hub store, publish → PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

from bench import project as bp
from bench.db import pg_count, pg_drop, pg_fresh_database
from bench.seed import bump, ensure_billing
from bench.settings import DEST_DB, HUB_DB, MULTI_HUB_DB
from bench.variants import Context, Measured


def _load(folder):  # type: ignore[no-untyped-def]
    from officehub.config import load_project

    return load_project(folder)


@contextmanager
def _autoanalyze(every_s: float):  # type: ignore[no-untyped-def]
    """Opt-in (BENCH_HUB_AUTOANALYZE=seconds): ANALYZE the hub database every ``every_s`` seconds.

    Stands in for autovacuum's auto-analyze where the server runs with autovacuum off
    (as the local test server does), so the planner has row counts for xref and the
    golden tables while they grow. Off by default: the default figures are the engine
    exactly as it runs against this server.
    """
    if every_s <= 0:
        yield
        return
    from bench.db import pg_connect

    stop = threading.Event()

    def loop() -> None:
        with pg_connect(HUB_DB, autocommit=True) as conn:
            while not stop.wait(every_s):
                conn.execute("ANALYZE")

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _sync(ctx: Context, names: list[str], folder=None) -> tuple[float, dict]:  # type: ignore[no-untyped-def]
    """Run ``names`` of the project in ``folder`` (the round's by default); seconds of the sync and run figures."""
    from officehub.engine import open_store, sync

    project = _load(folder or ctx.project_dir)
    store = open_store(project)          # schema migration: set-up, not timed
    every_s = float(os.environ.get("BENCH_HUB_AUTOANALYZE", "0") or 0)
    try:
        with _autoanalyze(every_s):
            started = time.perf_counter()
            results = sync(project, names, store=store)
            seconds = time.perf_counter() - started
    finally:
        store.close()
    detail: dict = {"hub_autoanalyze_s": every_s} if every_s > 0 else {}
    detail |= {r.pipeline: {"status": r.status, "seconds": round(r.seconds, 3), **vars(r.metrics),
                           **({"error": r.error} if r.error else {})} for r in results}
    failed = [f"{r.pipeline}: {r.error}" for r in results if r.status != "succeeded"]
    if failed:
        raise RuntimeError("officehub run failed: " + "; ".join(failed))
    return seconds, detail


def e2e(ctx: Context) -> Measured:
    """Full ingest into the round's fresh hub, then publish through the policy into a fresh table."""
    pg_drop(DEST_DB, bp.DEST_TABLE)
    seconds, detail = _sync(ctx, [bp.INGEST, bp.PUBLISH])
    detail["destination_rows"] = pg_count(DEST_DB, bp.DEST_TABLE)
    return Measured(seconds, ctx.rows, detail)


def publish_alone(ctx: Context) -> Measured:
    """Publish every golden record of the round's hub (left by officehub_e2e) into a second, fresh table."""
    pg_drop(DEST_DB, bp.PUBLISH_TABLE)
    seconds, detail = _sync(ctx, [bp.PUBLISH_ALONE])
    detail["destination_rows"] = pg_count(DEST_DB, bp.PUBLISH_TABLE)
    return Measured(seconds, ctx.rows, detail)


def incremental(ctx: Context) -> Measured:
    """After officehub_e2e of this round: change 1% of the source rows, then ingest + publish again."""
    changed = bump(ctx.rows, slot=2 * ctx.round)
    seconds, detail = _sync(ctx, [bp.INGEST, bp.PUBLISH])
    detail["rows_changed_in_source"] = changed
    return Measured(seconds, changed, detail)


def multisource(ctx: Context) -> Measured:
    """Two systems with the same customers into a fresh hub with identity rules: the CRM, then billing.

    Every billing record links to the CRM's golden record by customer number, so the run pays
    for match keys, links, each system's copy and survivorship: the cost of identity resolution.
    """
    billing = ensure_billing(ctx.rows)
    folder = bp.write_multisource_project(ctx.project_dir / "multisource", ctx.table, billing, ctx.batch_size)
    pg_fresh_database(MULTI_HUB_DB)
    seconds, detail = _sync(ctx, [bp.INGEST, bp.BILLING_INGEST], folder)
    linked = detail[bp.BILLING_INGEST].get("records_linked", 0)
    if linked != ctx.rows:
        raise RuntimeError(f"billing linked {linked} of {ctx.rows} records")
    return Measured(seconds, 2 * ctx.rows, detail)
