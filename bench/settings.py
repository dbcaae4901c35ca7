"""Where the benchmark's databases are and what a run measures, from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS", BENCH_DIR / "results"))

#: Server roots (no database): the local servers with trust / empty-password auth.
PG_ROOT = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
MARIADB_ROOT = os.environ.get("BENCH_MARIADB", "mysql://root@127.0.0.1:3306")

SOURCE_DB = "officehub_bench_src"   # MariaDB: the seeded CRM tables, reused across runs
HUB_DB = "officehub_bench_hub"      # PostgreSQL: officehub's hub store, created fresh each round
MULTI_HUB_DB = "officehub_bench_multi"  # PostgreSQL: the multi-source variant's own hub, fresh each run
DEST_DB = "officehub_bench_dest"    # PostgreSQL: every variant's destination tables

#: Every variant, in the order one round runs them. officehub_incremental continues the
#: hub that officehub_e2e left and runs straight after it, as dlt_incremental runs straight
#: after its own (untimed) first load: each incremental run meets the caches of the
#: databases as its own first load left them, not as another tool's run did.
VARIANTS = ("officehub_e2e", "officehub_incremental", "officehub_publish", "officehub_multisource",
            "raw_vectorised", "raw_rows", "dlt_pyarrow", "dlt_default", "dlt_incremental")
SCALING_VARIANTS = ("officehub_e2e", "officehub_publish", "raw_vectorised", "raw_rows")


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


@dataclass(frozen=True)
class Settings:
    """One benchmark run."""

    rows: int = 1_000_000
    rounds: int = 3
    seed: int = 20260101
    sizes: list[int] = field(default_factory=list)
    variants: tuple[str, ...] = VARIANTS
    batch_size: int = 10_000

    @classmethod
    def from_env(cls) -> Settings:
        """BENCH_ROWS, BENCH_ROUNDS, BENCH_SEED, BENCH_SIZES, BENCH_VARIANTS, BENCH_BATCH."""
        env = os.environ
        sizes = _ints(env.get("BENCH_SIZES", ""))
        default_variants = SCALING_VARIANTS if sizes else VARIANTS
        variants = tuple(v.strip() for v in env.get("BENCH_VARIANTS", "").split(",") if v.strip()) \
            or default_variants
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise SystemExit(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
        return cls(rows=_ints(env.get("BENCH_ROWS", "1000000"))[0], rounds=int(env.get("BENCH_ROUNDS", "3")),
                   seed=int(env.get("BENCH_SEED", "20260101")), sizes=sizes, variants=variants,
                   batch_size=int(env.get("BENCH_BATCH", "10000")))


def table_name(rows: int) -> str:
    """The seeded source table for ``rows`` customers (one per size, so sizes can be reused)."""
    return f"customers_{rows}"


def pg_url(db: str, driver: str = "") -> str:
    """A PostgreSQL URL; ``driver`` e.g. ``+psycopg`` for SQLAlchemy."""
    return PG_ROOT.replace("postgresql://", f"postgresql{driver}://", 1) + f"/{db}"


def mariadb_url(db: str, driver: str = "") -> str:
    """A MariaDB URL; ``driver`` e.g. ``+pymysql`` for SQLAlchemy."""
    return MARIADB_ROOT.replace("mysql://", f"mysql{driver}://", 1) + f"/{db}"
