"""Airflow for the DAG tests: required in CI, skipped (with the reason) elsewhere when not installed.

Airflow reads ``AIRFLOW_HOME`` and its settings once, when first imported, so the session fixture
sets them before any test imports it; test modules import Airflow only inside tests and fixtures.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

DAGS_FOLDER = ROOT / "dags"
INSTALL_HINT = "pip install -e '.[dev,airflow]'"


def require_airflow() -> None:
    """Fail in CI, skip elsewhere, when Airflow is not installed."""
    if importlib.util.find_spec("airflow") is None:
        message = f"apache-airflow is not installed ({INSTALL_HINT})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An AIRFLOW_HOME in a temp dir with a fresh SQLite metadata DB; settings restored afterwards."""
    require_airflow()
    home = tmp_path_factory.mktemp("airflow_home")
    settings = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    from airflow.utils import db

    db.resetdb()
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def dagbag(airflow_home: Path, monkeypatch: pytest.MonkeyPatch):
    """A factory: the DagBag of ``dags/`` for the project at ``config`` (None: the default lookup)."""
    from airflow.dag_processing.dagbag import DagBag

    def load(config: Path | None = None) -> DagBag:
        if config is None:
            monkeypatch.delenv("OFFICEHUB_CONFIG", raising=False)
        else:
            monkeypatch.setenv("OFFICEHUB_CONFIG", str(config))
        return DagBag(dag_folder=str(DAGS_FOLDER))

    return load
