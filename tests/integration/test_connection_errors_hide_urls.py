"""Connection failures against real servers name the database, never the URL's user name or options."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.connectors.sql.config import SqlConfig
from officehub.connectors.sql.connector import SqlConnector
from tests.conftest import copy_demo_config
from tests.helpers import run_cli

USER = "crm_reader_sentinel"
OPTION = "appname_sentinel"


def _failure(url: str, tmp_path: Path, expected: type[OfficehubError] = FatalError) -> str:
    connector = SqlConnector("crm", SqlConfig(url=url, connect_timeout_s=5), tmp_path)
    try:
        with pytest.raises(expected) as info:
            connector.check()
    finally:
        connector.close()
    return info.value.describe()


def test_postgresql_quoting_an_unknown_role_does_not_show_it(tmp_path: Path) -> None:
    text = _failure(f"postgresql+psycopg://{USER}@127.0.0.1:5432/postgres?application_name={OPTION}", tmp_path)
    assert "does not exist" in text and "at postgresql+psycopg://127.0.0.1:5432/postgres" in text
    assert USER not in text and OPTION not in text


def test_mariadb_quoting_a_refused_user_does_not_show_it(tmp_path: Path) -> None:
    text = _failure(f"mysql+pymysql://{USER}@127.0.0.1:3306/test?charset=utf8mb4", tmp_path)
    assert "Access denied" in text and "at mysql+pymysql://127.0.0.1:3306/test" in text
    assert USER not in text and "utf8mb4" not in text


def test_an_unreachable_host_shows_no_user_or_query(tmp_path: Path) -> None:
    text = _failure(f"postgresql+psycopg://{USER}@127.0.0.1:1/crm?application_name={OPTION}", tmp_path,
                    RetriableError)
    assert "database unavailable at postgresql+psycopg://127.0.0.1:1/crm" in text
    assert USER not in text and OPTION not in text


def test_a_failed_run_records_no_user_name_in_the_runs_table_or_output(tmp_path: Path) -> None:
    folder = copy_demo_config(tmp_path / "project")
    systems = folder / "systems" / "crm.yaml"
    systems.write_text(systems.read_text().replace(
        "sqlite:///data/crm.db", f"postgresql+psycopg://{USER}@127.0.0.1:5432/postgres"))
    failed = run_cli("-p", str(folder), "sync", "crm_customers_in")
    # A role the server does not know is permanent: exit 2, not "retry later".
    assert failed.returncode == 2 and "database refused the connection" in failed.stderr
    with sqlite3.connect(folder / ".officehub" / "hub.db") as conn:
        [(error,)] = conn.execute("SELECT error FROM run WHERE pipeline = 'crm_customers_in'").fetchall()
    assert "does not exist" in error and USER not in error
    assert USER not in failed.stdout + failed.stderr


def test_check_refuses_an_encoded_password_without_printing_it(tmp_path: Path) -> None:
    folder = copy_demo_config(tmp_path / "project")
    systems = folder / "systems" / "crm.yaml"
    systems.write_text(systems.read_text().replace(
        "sqlite:///data/crm.db", "postgresql+psycopg://crm%3AZq9-hunter2@127.0.0.1:5432/postgres"))
    checked = run_cli("-p", str(folder), "check")
    assert checked.returncode != 0 and "systems/crm.yaml:" in checked.stderr and "by reference" in checked.stderr
    assert "hunter2" not in checked.stdout + checked.stderr
