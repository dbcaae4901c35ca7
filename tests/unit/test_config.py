"""Project loading: includes merged, every problem reported at once with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from officehub.config import ConfigError, ConfigIssue, load_project

PASSWORD = "hunter2-Zq9"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _issues(root: Path) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as info:
        load_project(root)
    return info.value.issues


MAIN = """\
hub:
  name: test
include:
  - parts/*.yaml
systems:
  crm:
    type: sql
    url: sqlite:///x.db
  drop:
    type: files
    path: in
    streams:
      people: {pattern: "*.csv"}
pipelines:
  crm_in: {kind: ingest, mapping: crm_customers}
"""

MAPPINGS = """\
# customers from the CRM
mappings:
  crm_customers:
    system: crm
    stream: CUST
    target: customer
    key: CUSTNO
    fields:
      name.last: LNAME
      birth_date: {from: BIRTH, transforms: [{date: "%d.%m.%Y"}]}
"""


def test_valid_project_loads(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    project = load_project(_write(tmp_path, {"officehub.yaml": MAIN, "parts/mappings.yaml": MAPPINGS}))
    assert project.name == "test"
    assert set(project.config.systems) == {"crm", "drop"}
    assert project.config.mappings["crm_customers"].key == ["CUSTNO"]
    assert project.pipelines_in_order() == ["crm_in"]
    assert project.config.systems["crm"].connector_settings() == {"type": "sql", "url": "sqlite:///x.db"}


BROKEN_MAIN = """\
include:
  - parts/*.yaml
systems:
  crm:
    type: sql
    url: postgresql://admin:%s@dbhost/crm
pipelines:
  crm_in:
    kind: ingest
    mapping: no_such_mapping
""" % PASSWORD

BROKEN_MAPPINGS = """\
mappings:
  crm_customers:
    system: erp
    stream: CUST
    target: customer
    key: CUSTNO
    fields:
      name.last: LNAME
      contact.phone: {from: PHONE, transforms: [{phone: {region: ukraine}}]}
"""


def _broken(tmp_path: Path) -> list[ConfigIssue]:
    return _issues(_write(tmp_path, {"officehub.yaml": BROKEN_MAIN, "parts/mappings.yaml": BROKEN_MAPPINGS}))


def _one(issues: list[ConfigIssue], text: str) -> ConfigIssue:
    found = [i for i in issues if text in i.message]
    assert len(found) == 1, issues
    return found[0]


def test_every_mistake_is_reported_with_file_and_line(tmp_path: Path) -> None:
    issues = _broken(tmp_path)
    assert len(issues) == 4
    url = _one(issues, "password")
    assert (url.file, url.line) == ("officehub.yaml", 6) and "systems.crm.url" in url.message
    system = _one(issues, "unknown system 'erp'")
    assert (system.file, system.line) == ("parts/mappings.yaml", 3)
    pipeline = _one(issues, "unknown mapping 'no_such_mapping'")
    assert (pipeline.file, pipeline.line) == ("officehub.yaml", 10)
    transform = _one(issues, "region")
    assert transform.file == "parts/mappings.yaml" and 2 <= transform.line <= 9
    assert "contact.phone" in transform.message


def test_bad_transform_param_points_at_its_own_line(tmp_path: Path) -> None:
    assert _one(_broken(tmp_path), "region").line == 9


def test_password_in_url_is_never_echoed(tmp_path: Path) -> None:
    issues = _broken(tmp_path)
    assert all(PASSWORD not in str(issue) for issue in issues)
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path)
    assert PASSWORD not in str(info.value)


def test_yaml_syntax_error_reports_file_and_line(tmp_path: Path) -> None:
    bad = "systems:\n  s1:\n    type: sql: oops\n"
    issues = _issues(_write(tmp_path, {"officehub.yaml": "include: [parts/*.yaml]\n", "parts/bad.yaml": bad}))
    assert [(i.file, i.line) for i in issues] == [("parts/bad.yaml", 3)]
    assert "mapping values are not allowed" in issues[0].message


def test_include_matching_nothing_is_an_issue(tmp_path: Path) -> None:
    issues = _issues(_write(tmp_path, {"officehub.yaml": "include:\n  - nothing/*.yaml\n"}))
    assert [(i.file, i.message) for i in issues] == [("officehub.yaml", "include 'nothing/*.yaml' matches no file")]


def test_duplicate_pipeline_across_files_is_reported(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    again = "pipelines:\n  other: {kind: ingest, mapping: crm_customers}\n  crm_in: {kind: ingest, mapping: crm_customers}\n"
    issues = _issues(_write(tmp_path, {"officehub.yaml": MAIN, "parts/mappings.yaml": MAPPINGS,
                                       "parts/more.yaml": again}))
    assert [(i.file, i.line) for i in issues] == [("parts/more.yaml", 3)]
    assert "pipelines.crm_in is defined twice" in issues[0].message


def test_include_with_only_comments_is_fine(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    files = {"officehub.yaml": MAIN, "parts/mappings.yaml": MAPPINGS, "parts/notes.yaml": "# nothing yet\n# really\n"}
    assert set(load_project(_write(tmp_path, files)).config.mappings) == {"crm_customers"}


def test_included_file_cannot_set_hub(tmp_path: Path) -> None:
    files = {"officehub.yaml": "include: [extra.yaml]\n", "extra.yaml": "hub:\n  name: other\n"}
    issues = _issues(_write(tmp_path, files))
    assert [(i.file, i.message) for i in issues] == [("extra.yaml", "section 'hub' cannot be set in an included file")]


def test_unknown_connector_type_and_bad_setting(tmp_path: Path) -> None:
    main = "systems:\n  a:\n    type: ftp\n  b:\n    type: sql\n    url: sqlite:///x.db\n    timeout: 3\n"
    issues = _issues(_write(tmp_path, {"officehub.yaml": main}))
    assert [(i.file, i.line) for i in issues] == [("officehub.yaml", 3), ("officehub.yaml", 7)]
    assert "no connector of type 'ftp'" in issues[0].message
    assert "systems.b.timeout" in issues[1].message


def test_a_bad_policy_action_parameter_is_reported_at_its_line(tmp_path):
    from tests.conftest import copy_demo_config

    folder = copy_demo_config(tmp_path / "demo")
    policy = folder / "policies" / "reporting.yaml"
    policy.write_text(policy.read_text().replace("params: {to: month}", "params: {to: decade}"))
    line = next(i for i, text in enumerate(policy.read_text().splitlines(), 1) if "decade" in text)
    with pytest.raises(ConfigError) as caught:
        load_project(folder)
    [issue] = caught.value.issues
    assert (issue.file, issue.line) == ("policies/reporting.yaml", line)
    assert "params.to" in issue.message
