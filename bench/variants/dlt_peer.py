"""The peer: dlt 1.31's ``sql_database`` source → its ``postgres`` destination, as a user would run it.

- dlt_pyarrow: ``backend="pyarrow"``, ``write_disposition="replace"``.
- dlt_default: the default ``backend="sqlalchemy"`` (Python dicts), ``replace``.
- dlt_incremental: ``backend="pyarrow"``, ``dlt.sources.incremental("updated_at")``,
  ``primary_key="id"``, ``write_disposition="merge"``; an untimed first load sets the
  state, then 1% of the source rows change and the second run is timed.

dlt's own defaults otherwise (chunk size, loader file format, workers). Each run uses a
fresh pipelines folder and a fresh dataset schema, so no state carries over.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from bench.db import pg_count, pg_drop
from bench.seed import bump
from bench.settings import DEST_DB, SOURCE_DB, mariadb_url, pg_url
from bench.variants import Context, Measured

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def _dest_url() -> str:
    # dlt insists on a password; the local server trusts loopback and ignores this placeholder.
    password = os.environ.get("BENCH_PG_PASSWORD", "trust-auth-ignores-this")
    return pg_url(DEST_DB).replace("://postgres@", f"://postgres:{password}@", 1)


def _pipeline(name: str, folder: str):  # type: ignore[no-untyped-def]
    import dlt

    return dlt.pipeline(pipeline_name=name, pipelines_dir=folder, dataset_name=name,
                        destination=dlt.destinations.postgres(credentials=_dest_url()), progress=None)


def _source(ctx: Context, backend: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    from dlt.sources.sql_database import sql_table

    return sql_table(credentials=mariadb_url(SOURCE_DB, "+pymysql"), table=ctx.table, backend=backend, **kwargs)


def _formats(info: Any) -> list[str]:
    """Loader file formats dlt chose (from the load info's jobs)."""
    found = set()
    for package in info.load_packages:
        for jobs in package.jobs.values():
            for job in jobs:
                info_ = getattr(job, "job_file_info", None)
                fmt = getattr(info_, "file_format", None)
                found.add(fmt or job.file_path.removesuffix(".gz").rsplit(".", 1)[-1])
    return sorted(found)


def _full(ctx: Context, backend: str, name: str) -> Measured:
    pg_drop(DEST_DB, schemas=(name, f"{name}_staging"))
    with tempfile.TemporaryDirectory(prefix="officehub-bench-dlt-") as folder:
        pipeline = _pipeline(name, folder)
        source = _source(ctx, backend)
        started = time.perf_counter()
        info = pipeline.run(source, write_disposition="replace")
        seconds = time.perf_counter() - started
    loaded = pg_count(DEST_DB, f"{name}.{ctx.table}")
    return Measured(seconds, ctx.rows, {"destination_rows": loaded, "loader_files": _formats(info),
                                        "backend": backend})


def full_pyarrow(ctx: Context) -> Measured:
    """The whole table with the pyarrow backend."""
    return _full(ctx, "pyarrow", "dlt_pyarrow")


def full_default(ctx: Context) -> Measured:
    """The whole table with the default (SQLAlchemy rows) backend."""
    return _full(ctx, "sqlalchemy", "dlt_default")


def incremental(ctx: Context) -> Measured:
    """Untimed first load with incremental state, 1% of rows change, timed incremental merge."""
    import dlt

    name = "dlt_incremental"
    pg_drop(DEST_DB, schemas=(name, f"{name}_staging"))
    with tempfile.TemporaryDirectory(prefix="officehub-bench-dlt-") as folder:
        pipeline = _pipeline(name, folder)

        def source():  # type: ignore[no-untyped-def]
            return _source(ctx, "pyarrow", incremental=dlt.sources.incremental("updated_at"))

        first = time.perf_counter()
        pipeline.run(source(), write_disposition="merge", primary_key="id")
        setup_seconds = time.perf_counter() - first
        changed = bump(ctx.rows, slot=2 * ctx.round + 1)
        started = time.perf_counter()
        info = pipeline.run(source(), write_disposition="merge", primary_key="id")
        seconds = time.perf_counter() - started
        loaded = pipeline.last_trace.last_normalize_info.row_counts.get(ctx.table, 0) \
            if pipeline.last_trace and pipeline.last_trace.last_normalize_info else None
    return Measured(seconds, changed, {"rows_changed_in_source": changed, "rows_loaded": loaded,
                                       "first_load_seconds": round(setup_seconds, 3),
                                       "loader_files": _formats(info)})
