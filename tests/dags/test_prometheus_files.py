"""The compose deployment's Prometheus scrapes the console's /metrics with the configuration kept in docker/."""

from __future__ import annotations

from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def test_prometheus_scrapes_the_consoles_metrics_with_the_config_in_the_repository():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    prometheus, console = compose["services"]["prometheus"], compose["services"]["console"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in prometheus["volumes"] if not m.startswith("prometheus-data")}
    assert mounts["/etc/prometheus/prometheus.yml"] == "./prometheus.yml"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert "prometheus-data" in compose["volumes"] and "healthcheck" in prometheus
    assert prometheus["depends_on"] == {"console": {"condition": "service_healthy"}}

    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "officehub"]
    assert job["metrics_path"] == "/metrics"
    # The target is the console service at the port it serves on.
    port = console["ports"][0].split(":")[-1]
    assert "serve" in console["command"][0] and f"--port {port}" in console["command"][0]
    assert job["static_configs"] == [{"targets": [f"console:{port}"]}]
