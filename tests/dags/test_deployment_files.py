"""docker/ stays in step with what the tests run: same Airflow, same components."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import ROOT

DOCKER = ROOT / "docker"


def _airflow_pin() -> str:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    [pin] = [d for d in extras["airflow"] if d.startswith("apache-airflow==")]
    return pin.split("==")[1]


def test_the_image_is_the_official_airflow_image_at_the_tested_version():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(rf"^FROM apache/airflow:{re.escape(_airflow_pin())}-python3\.11$", dockerfile, re.M)
    assert "'.[airflow," in dockerfile


def test_compose_runs_every_component_with_health_checks_and_env_file_secrets():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "api-server", "scheduler", "dag-processor", "triggerer", "worker"} <= set(services)
    assert any(name.startswith("worker-") for name in services), "a worker per site queue"
    assert "serve" in " ".join(services["console"]["command"]), "the console and hub API"
    for name, service in services.items():
        if name != "init":
            assert "healthcheck" in service, name
    airflow = [s for n, s in services.items() if n not in ("postgres", "redis", "prometheus", "marquez-db", "marquez",
                                                             "marquez-web")]
    assert all(s["env_file"] == ["officehub.env"] for s in airflow)
    assert all(s["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" for s in airflow)
    assert not re.search(r"PASSWORD: [^$]", (DOCKER / "compose.yaml").read_text()), "no literal secret"


def test_compose_sends_every_runs_lineage_to_marquez():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"marquez", "marquez-db", "marquez-web"} <= set(services)
    # officehub's run events and Airflow's task events alike: every Airflow process and the console.
    airflow = [s for n, s in services.items() if s.get("env_file") == ["officehub.env"]]
    assert airflow and all(s["environment"]["OPENLINEAGE_URL"] == "${OPENLINEAGE_URL-http://marquez:5000}"
                           for s in airflow)
    port = services["marquez"]["environment"]["MARQUEZ_PORT"]
    assert services["marquez"]["ports"] == [f"{port}:{port}"] and port == "5000"
    assert services["marquez-web"]["environment"]["MARQUEZ_HOST"] == "marquez"
    assert services["marquez"]["depends_on"] == {"marquez-db": {"condition": "service_healthy"}}
    # The image brings the lineage and telemetry clients along.
    assert re.search(r"pip install .*'\.\[[^]]*\blineage\b[^]]*\btelemetry\b", (DOCKER / "Dockerfile").read_text())
