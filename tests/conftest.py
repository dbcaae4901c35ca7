"""Shared fixtures: demo projects in temporary folders, real PostgreSQL and MariaDB databases."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# The leak scan checks every test's output; pytester lets its own test run a suite inside a suite.
pytest_plugins = ("tests.leak_scan", "pytester")

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/test"


def service_unavailable(name: str, exc: Exception) -> None:
    """Fail loudly in CI (where the server must run); skip with the reason elsewhere."""
    message = f"{name} is not reachable on loopback ({type(exc).__name__})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _builtin_model_afterwards() -> Iterator[None]:
    """Put the built-in model back after each test: loading a project (the demo's included)
    installs its own entities process-wide, and a later test must not see them."""
    yield
    from officehub.canonical_model import install
    from officehub.canonical_model.entities import BUILTIN_DECLARATIONS

    install(BUILTIN_DECLARATIONS)


def copy_demo_config(target: Path) -> Path:
    """The demo estate's configuration and demo key (not its data) in ``target``."""
    for source in [*DEMO.rglob("*.yaml"), *DEMO.glob("keys/*.key")]:
        dest = target / source.relative_to(DEMO)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        if source.suffix == ".key":
            from tests.leak_scan import register_secret  # imported once pytest has loaded it as a plugin

            register_secret(source.read_text(), "pseudonymisation key" if "demo" in source.name else "audit key")
    return target


@pytest.fixture
def demo_project(tmp_path: Path):
    """A factory: a seeded copy of the demo estate in a temporary folder."""
    from officehub.demo.seed import seed_estate

    def make(name: str = "demo", **sizes: int) -> Path:
        folder = copy_demo_config(tmp_path / name)
        seed_estate(folder / "data", **sizes)
        return folder

    return make


@contextmanager
def _postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    import sqlalchemy as sa

    name = f"officehub_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        service_unavailable("PostgreSQL", exc)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    with _postgres_database() as url:
        yield url


@pytest.fixture
def another_postgres_url() -> Iterator[str]:
    """A second fresh PostgreSQL database, for tests that compare two hub stores."""
    with _postgres_database() as url:
        yield url


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh, empty MariaDB database, dropped afterwards."""
    yield from _mariadb_database()


@pytest.fixture(scope="module")
def mariadb_url_module() -> Iterator[str]:
    """A fresh, empty MariaDB database shared by a module's tests, dropped afterwards."""
    yield from _mariadb_database()


def _mariadb_database() -> Iterator[str]:
    import sqlalchemy as sa

    name = f"officehub_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(MARIADB_ADMIN)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    except sa.exc.OperationalError as exc:
        service_unavailable("MariaDB", exc)
    yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()
