"""``hub.metrics`` and ``serve.metrics_token`` in officehub.yaml: what they accept, and one line naming the file,
line and key for what they do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from officehub.config import ConfigError, load_project


def _issues(folder: Path, hub_metrics: str) -> list[str]:
    (folder / "officehub.yaml").write_text(f"hub:\n  name: test\n  metrics:\n{hub_metrics}")
    with pytest.raises(ConfigError) as caught:
        load_project(folder)
    return [f"{i.file}:{i.line}: {i.message}" for i in caught.value.issues]


def test_a_textfile_pushgateway_and_token_are_read(tmp_path: Path):
    (tmp_path / "officehub.yaml").write_text(
        "hub:\n  metrics:\n    textfile: out/officehub.prom\n    pushgateway: http://127.0.0.1:9091\n"
        "    pushgateway_token: {env: PUSH_TOKEN}\nserve:\n  metrics_token: {file: secrets/metrics}\n")
    config = load_project(tmp_path).config
    assert config.hub.metrics is not None and config.hub.metrics.textfile == Path("out/officehub.prom")
    assert config.hub.metrics.job == "officehub" and config.hub.metrics.pushgateway_token is not None
    assert config.serve.metrics_token is not None and config.serve.metrics_token.file == Path("secrets/metrics")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "officehub.yaml").write_text("hub:\n  name: plain\n")
    plain = load_project(tmp_path / "plain").config
    assert plain.hub.metrics is None and plain.serve.metrics_token is None  # nothing exported, /metrics open


@pytest.mark.parametrize(("section", "expected"), [
    ("    textfile: out/officehub.txt\n", "the textfile must end in .prom"),
    ("    pushgateway: pushgateway:9091\n", "the pushgateway is an http:// or https:// address"),
    ("    pushgateway: https://ops:s3cret@pushgateway:9091\n", "without a user or password"),
    ("    job: officehub\n", "hub.metrics needs a textfile, a pushgateway, or both"),
    ("    textfile: out/officehub.prom\n    pushgateway_token: s3cret\n", "pushgateway_token"),
])
def test_a_wrong_metrics_section_is_one_line_naming_file_and_line(tmp_path: Path, section: str, expected: str):
    [issue] = _issues(tmp_path, section)
    assert issue.startswith("officehub.yaml:") and expected in issue
    assert "s3cret" not in issue
