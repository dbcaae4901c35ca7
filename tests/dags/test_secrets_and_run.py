"""Secret references (env, file, Airflow connection) and the typed errors ``orchestrate.run`` raises."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from officehub import orchestrate
from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.connectors.secrets import SecretRef
from tests.conftest import DEMO
from tests.dags.conftest import require_airflow


def test_env_and_file_references_still_resolve(tmp_path, monkeypatch):
    monkeypatch.setenv("OFFICEHUB_TEST_SECRET", "from-env")
    (tmp_path / "secret.txt").write_text("from-file\n", encoding="utf-8")
    assert SecretRef(env="OFFICEHUB_TEST_SECRET").resolve(tmp_path).get_secret_value() == "from-env"
    assert SecretRef(file="secret.txt").resolve(tmp_path).get_secret_value() == "from-file"


@pytest.mark.parametrize("fields", [{}, {"env": "A", "airflow": "b"}, {"file": "a", "airflow": "b"}])
def test_a_reference_names_exactly_one_place(fields):
    with pytest.raises(ValidationError, match="exactly one of 'env', 'file' or 'airflow'"):
        SecretRef(**fields)


def test_an_airflow_reference_reads_the_connections_password_when_used(tmp_path, monkeypatch):
    require_airflow()
    ref = SecretRef(airflow="officehub_test_db")  # building it needs no Airflow and no connection
    monkeypatch.delenv("AIRFLOW_CONN_OFFICEHUB_TEST_DB", raising=False)
    with pytest.raises(FatalError, match="Airflow connection officehub_test_db is not defined"):
        ref.resolve(tmp_path)
    monkeypatch.setenv("AIRFLOW_CONN_OFFICEHUB_TEST_DB", json.dumps({"conn_type": "postgres", "login": "u"}))
    with pytest.raises(FatalError, match="has no password"):
        ref.resolve(tmp_path)
    monkeypatch.setenv("AIRFLOW_CONN_OFFICEHUB_TEST_DB", json.dumps({"conn_type": "postgres", "password": "pw-123"}))
    assert ref.resolve(tmp_path).get_secret_value() == "pw-123"


def test_an_unknown_pipeline_is_fatal():
    with pytest.raises(FatalError, match="unknown pipeline 'nope'"):
        orchestrate.run(DEMO, "nope")


def test_failures_map_to_the_error_airflow_retries_or_not():
    assert isinstance(orchestrate._error_for(RetriableError.exit_code, "x"), RetriableError)
    assert isinstance(orchestrate._error_for(FatalError.exit_code, "x"), FatalError)
    assert not isinstance(orchestrate._error_for(1, "x"), RetriableError)
