"""``lineage:`` and ``telemetry:`` in officehub.yaml: what they accept, and one line naming the file, line and
key for what they do not (never quoting a URL that may carry a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from officehub.config import ConfigError, load_project


def _issues(folder: Path, text: str) -> list[str]:
    (folder / "officehub.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_project(folder)
    return [f"{i.file}:{i.line}: {i.message}" for i in caught.value.issues]


def test_lineage_and_telemetry_are_read_and_default_to_off(tmp_path: Path):
    (tmp_path / "officehub.yaml").write_text(
        "lineage:\n  url: http://marquez:5000\n  namespace: hub-kyiv\n  api_key: {env: OL_KEY}\n  timeout_s: 2\n"
        "telemetry:\n  endpoint: http://otel-collector:4318\n  service_name: hub-kyiv\n")
    config = load_project(tmp_path).config
    assert (config.lineage.url, config.lineage.namespace, config.lineage.timeout_s) == \
        ("http://marquez:5000", "hub-kyiv", 2)
    assert config.lineage.api_key is not None and config.lineage.api_key.env == "OL_KEY"
    assert (config.telemetry.endpoint, config.telemetry.service_name) == ("http://otel-collector:4318", "hub-kyiv")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "officehub.yaml").write_text("hub:\n  name: plain\n")
    plain = load_project(tmp_path / "plain").config
    assert plain.lineage.url is None and plain.telemetry.endpoint is None


def test_bad_addresses_and_keys_are_one_line_each_without_the_address(tmp_path: Path):
    issues = _issues(tmp_path, "lineage:\n  url: http://user:s3cret-pw@marquez:5000\n  timeout_s: 0\n  colour: red\n"
                               "telemetry:\n  endpoint: otel-collector:4318\n")
    assert len(issues) == 4, issues
    assert all(i.startswith("officehub.yaml:") for i in issues)
    assert any("lineage.url" in i and "without a user or password" in i for i in issues)
    assert any("lineage.timeout_s" in i for i in issues)
    assert any("lineage.colour" in i for i in issues)
    assert any("telemetry.endpoint" in i and "http:// or https://" in i for i in issues)
    assert not any("s3cret-pw" in i for i in issues)
