"""Every user YAML file is read defensively: duplicate keys are errors, alias expansion is bounded."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from officehub.canonical_model.errors import FatalError
from officehub.config import ConfigError, ConfigIssue, load_project
from officehub.config.yaml_source import MAX_ALIASES, MAX_DEPTH, Positions, YamlError, load_yaml
from officehub.policies import template
from officehub.sites import load_settings
from tests.conftest import copy_demo_config
from tests.helpers import run_cli

#: Nine levels of nine aliases: 9**9 (387 million) strings once expanded.
BILLION_LAUGHS = '\n'.join(
    ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]" for i in range(1, 9)]
) + "\n"

POLICY_WITH_DUPLICATE_ACTION = """\
name: reporting-sharing
rules:
  - id: no-health
    select: {field: employee.occupational_health_restrictions}
    action: drop
    description: health data stays in the hub
    action: allow
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _load(path: Path) -> object:
    return load_yaml(path, Positions(), path.name)


def _issues(folder: Path) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as info:
        load_project(folder)
    return info.value.issues


def _bounded(call) -> tuple[BaseException, float, int]:  # type: ignore[no-untyped-def]
    """Run ``call`` expecting an error; returns it with the seconds and peak bytes it took."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises((YamlError, ConfigError, FatalError)) as info:
            call()
        return info.value, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- duplicate keys ------------------------------------------------------------------------------

def test_a_duplicate_key_names_the_file_and_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.yaml", POLICY_WITH_DUPLICATE_ACTION)
    with pytest.raises(YamlError) as info:
        _load(path)
    assert (info.value.file, info.value.line) == ("p.yaml", 7)
    assert "'action'" in info.value.problem and "lines 5 and 7" in info.value.problem


def test_a_later_allow_cannot_override_a_drop_in_a_policy_file(tmp_path: Path) -> None:
    folder = copy_demo_config(tmp_path / "project")
    _write(folder / "policies" / "reporting.yaml", POLICY_WITH_DUPLICATE_ACTION)
    issues = _issues(folder)
    assert [(i.file, i.line) for i in issues] == [("policies/reporting.yaml", 7)]
    assert "lines 5 and 7" in issues[0].message


def test_a_duplicate_system_setting_in_officehub_yaml_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "officehub.yaml", "systems:\n  crm:\n    type: sql\n    url: sqlite:///a.db\n"
                                        "    url: sqlite:///b.db\n")
    issues = _issues(tmp_path)
    assert [(i.file, i.line) for i in issues] == [("officehub.yaml", 5)]
    assert "'url'" in issues[0].message and "lines 4 and 5" in issues[0].message


def test_keys_that_read_as_the_same_value_are_duplicates(tmp_path: Path) -> None:
    # YAML 1.1 reads both "yes" and "true" as True: the second silently replaced the first.
    with pytest.raises(YamlError, match="lines 1 and 2"):
        _load(_write(tmp_path / "x.yaml", "yes: drop\ntrue: allow\n"))


def test_the_same_key_in_different_mappings_is_fine(tmp_path: Path) -> None:
    text = "rules:\n  - {id: a, action: drop}\n  - {id: b, action: allow}\n"
    assert _load(_write(tmp_path / "x.yaml", text)) == {"rules": [{"id": "a", "action": "drop"},
                                                                  {"id": "b", "action": "allow"}]}


def test_a_list_as_a_key_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(YamlError) as info:
        _load(_write(tmp_path / "x.yaml", "ok: 1\n? [a, b]\n: 2\n"))
    assert info.value.line == 2


# -- alias bombs and depth -----------------------------------------------------------------------

def test_a_billion_laughs_bomb_is_a_fast_one_line_error_with_flat_memory(tmp_path: Path) -> None:
    path = _write(tmp_path / "bomb.yaml", BILLION_LAUGHS)
    error, seconds, peak = _bounded(lambda: _load(path))
    assert isinstance(error, YamlError) and error.file == "bomb.yaml" and error.line > 0
    assert "expands to more than" in error.problem and "\n" not in error.problem
    assert seconds < 2 and peak < 20_000_000


def test_a_bomb_in_officehub_yaml_is_a_config_error(tmp_path: Path) -> None:
    _write(tmp_path / "officehub.yaml", "hub: {name: test}\n" + BILLION_LAUGHS)
    error, seconds, peak = _bounded(lambda: load_project(tmp_path))
    assert isinstance(error, ConfigError) and [i.file for i in error.issues] == ["officehub.yaml"]
    assert seconds < 2 and peak < 20_000_000


def test_a_bomb_in_a_policy_file_is_a_config_error(tmp_path: Path) -> None:
    folder = copy_demo_config(tmp_path / "project")
    _write(folder / "policies" / "reporting.yaml", "name: x\nrules: []\nextra:\n" +
           "".join(f"  {line}\n" for line in BILLION_LAUGHS.splitlines()))
    error, seconds, peak = _bounded(lambda: load_project(folder))
    assert isinstance(error, ConfigError)
    assert [i.file for i in error.issues] == ["policies/reporting.yaml"]
    assert "expands to more than" in error.issues[0].message
    assert seconds < 5 and peak < 50_000_000


def test_a_bomb_in_officehub_yaml_stops_the_site_settings_reader_too(tmp_path: Path) -> None:
    _write(tmp_path / "officehub.yaml", BILLION_LAUGHS)
    error, seconds, peak = _bounded(lambda: load_settings(tmp_path))
    assert isinstance(error, FatalError) and "officehub.yaml:" in str(error)
    assert seconds < 2 and peak < 20_000_000


def test_too_many_aliases_are_refused(tmp_path: Path) -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(YamlError, match="aliases"):
        _load(_write(tmp_path / "x.yaml", text))


def test_an_alias_to_its_own_collection_is_an_error_not_a_recursion_crash(tmp_path: Path) -> None:
    with pytest.raises(YamlError) as info:
        _load(_write(tmp_path / "x.yaml", "a: &a [1, *a]\n"))
    assert info.value.line == 1


def test_nesting_deeper_than_the_bound_is_refused(tmp_path: Path) -> None:
    text = "v: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    with pytest.raises(YamlError, match="nested more than"):
        _load(_write(tmp_path / "x.yaml", text))


def test_nesting_grown_deep_through_aliases_is_refused(tmp_path: Path) -> None:
    # Each alias adds 40 levels to the one before: no single collection is deep, the expansion is.
    lines = ["l0: &l0 " + "[" * 40 + "]" * 40]
    lines += [f"l{i}: &l{i} " + "[" * 40 + f"*l{i - 1}" + "]" * 40 for i in range(1, 4)]
    with pytest.raises(YamlError, match="nested more than"):
        _load(_write(tmp_path / "x.yaml", "\n".join(lines) + "\n"))


def test_ordinary_anchors_and_aliases_still_work(tmp_path: Path) -> None:
    text = "base: &base {type: sql, url: 'sqlite:///a.db'}\nsystems:\n  a: *base\n  b: *base\n"
    assert _load(_write(tmp_path / "x.yaml", text))["systems"] == {
        "a": {"type": "sql", "url": "sqlite:///a.db"}, "b": {"type": "sql", "url": "sqlite:///a.db"}}


# -- every user file goes through the bounded loader -------------------------------------------------

def test_policy_test_files_refuse_duplicate_keys_with_file_and_line(tmp_path: Path) -> None:
    folder = copy_demo_config(tmp_path / "project")
    tests = _write(folder / "policy-tests" / "dup.yaml",
                   "cases:\n  - name: a\n    destination: payroll\n    destination: reporting\n")
    done = run_cli("-p", str(folder), "policy", "test", str(tests))
    assert done.returncode != 0
    assert f"{tests}:4:" in done.stderr and "lines 3 and 4" in done.stderr


def test_policy_test_files_refuse_an_alias_bomb(tmp_path: Path) -> None:
    folder = copy_demo_config(tmp_path / "project")
    tests = _write(folder / "policy-tests" / "bomb.yaml", BILLION_LAUGHS)
    done = run_cli("-p", str(folder), "policy", "test", str(tests))
    assert done.returncode != 0 and "expands to more than" in done.stderr


def test_a_library_template_name_cannot_point_at_a_user_file(tmp_path: Path) -> None:
    # The library loader trusts its package data; an absolute or ../ name must not reach it.
    user_file = _write(tmp_path / "mine.yaml", "name: mine\nrules: []\nrules: []\n")
    for name in (str(user_file.with_suffix("")), "../library/gdpr-special-categories"):
        with pytest.raises(ValueError, match="no policy template"):
            template(name)
    assert template("gdpr-special-categories").name
