"""Connector capabilities: declared as data, coherent, and held against pipelines before any run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from officehub.config import ConfigError, ConfigIssue, load_project
from officehub.connectors import WriteMode, connector_class
from officehub.connectors.base import Capabilities, Connector, ConnectorConfig
from officehub.connectors.rest import RestConfig, RestConnector
from tests.helpers import run_cli

APPEND, UPSERT, DELETE = WriteMode.APPEND, WriteMode.UPSERT, WriteMode.DELETE


# -- the declaration -------------------------------------------------------------------------------

def test_a_declaration_reads_naturally_and_is_frozen() -> None:
    declared = Capabilities(write_modes=["append", WriteMode.UPSERT], deletes=True, incremental=True)
    assert declared.write_modes == frozenset({APPEND, UPSERT})
    assert [declared.accepts(m) for m in (APPEND, UPSERT, DELETE)] == [True, True, True]
    assert not Capabilities(write_modes={APPEND}).accepts(DELETE)
    assert declared.describe_writes() == "append, upsert; deletes"
    assert Capabilities().describe_writes() == "no write modes; no deletes"
    with pytest.raises(AttributeError):
        declared.deletes = False  # type: ignore[misc]


@pytest.mark.parametrize(("settings", "complaint"), [
    ({"write_modes": {DELETE}}, "deletes=True"),
    ({"cursor_field": True}, "incremental=True"),
    ({"reads": False, "incremental": True}, "does not read"),
    ({"write_modes": "append"}, "set of WriteMode"),
    ({"deletes": "yes"}, "True or False"),
    ({"write_modes": {"overwrite"}}, "overwrite"),
])
def test_an_incoherent_declaration_is_refused_where_it_is_made(settings: dict[str, Any], complaint: str) -> None:
    with pytest.raises((ValueError, TypeError), match=complaint):
        Capabilities(**settings)


def test_within_compares_every_field() -> None:
    everything = Capabilities(write_modes={APPEND, UPSERT}, deletes=True, incremental=True, cursor_field=True)
    assert Capabilities(write_modes={APPEND}).within(everything)
    assert not everything.within(Capabilities(write_modes={APPEND, UPSERT}, deletes=True, incremental=True))
    assert not Capabilities(write_modes={UPSERT}).within(Capabilities(write_modes={APPEND}))
    assert not Capabilities(reads=True).within(Capabilities(reads=False))


@pytest.mark.parametrize(("type_name", "writes", "cursor_field"), [
    ("sql", "append, upsert; deletes", True),
    ("files", "append, upsert; no deletes", False),
    ("sftp", "append, upsert; no deletes", False),
    ("rest", "append, upsert; deletes", True),
    ("site", "append, upsert; no deletes", False),
])
def test_every_built_in_connector_declares_its_capabilities(type_name: str, writes: str, cursor_field: bool) -> None:
    declared = connector_class(type_name).capabilities
    assert isinstance(declared, Capabilities)
    assert (declared.describe_writes(), declared.reads, declared.incremental, declared.cursor_field) == \
        (writes, True, True, cursor_field)


def test_a_rest_stream_offers_only_the_writes_it_has_endpoints_for() -> None:
    config = RestConfig.model_validate({"base_url": "https://api.example.org", "streams": {
        "full": {"path": "/a", "write": {"append": {"method": "POST", "path": "/a"},
                                         "upsert": {"method": "PUT", "path": "/a/{id}"},
                                         "delete": {"method": "DELETE", "path": "/a/{id}"}}},
        "posts": {"path": "/b", "write": {"append": {"method": "POST", "path": "/b"}}},
        "read_only": {"path": "/c"}}})
    offered = {s: RestConnector.stream_capabilities(config, s) for s in ("full", "posts", "read_only", "unknown")}
    assert offered["full"] == offered["unknown"] == RestConnector.capabilities
    assert offered["posts"].describe_writes() == "append; no deletes"
    assert offered["read_only"].describe_writes() == "no write modes; no deletes"
    assert all(o.within(RestConnector.capabilities) and o.incremental for o in offered.values())


# -- `officehub check` -----------------------------------------------------------------------------

API = {"type": "rest", "base_url": "https://api.example.org",
       "streams": {"contacts": {"path": "/contacts", "write": {"append": {"method": "POST", "path": "/contacts"}}}}}
DROP = {"type": "files", "path": "out", "streams": {"contacts": {"pattern": "c_*.csv", "format": "csv"}}}
DB = {"type": "sql", "url": "sqlite:///vendor.db"}


def _project(folder: Path, system: dict[str, Any], pipeline: dict[str, Any]) -> Path:
    """A project publishing customers to ``system`` (named ``partner``) with ``pipeline``'s settings."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "officehub.yaml").write_text(yaml.safe_dump({
        "systems": {"partner": system},
        "mappings": {"contacts_out": {"system": "partner", "stream": "contacts", "target": "customer",
                                      "key": "ref", "fields": {"customer_number": "ref", "name.last": "surname"}}},
        "pipelines": {"partner_out": {"kind": "publish", "mapping": "contacts_out", **pipeline}},
    }, sort_keys=False))
    return folder


def _line(folder: Path, text: str) -> int:
    """The line of officehub.yaml where ``text`` first stands."""
    lines = (folder / "officehub.yaml").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def _issues(folder: Path) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        load_project(folder)
    return caught.value.issues


def test_a_publish_the_destination_cannot_take_is_refused_naming_pipeline_system_and_what_is_missing(
        tmp_path: Path) -> None:
    folder = _project(tmp_path / "drop", DROP, {"write_mode": "delete"})
    [issue] = _issues(folder)
    assert str(issue) == (f"officehub.yaml:{_line(folder, 'write_mode')}: pipelines.partner_out: system 'partner' "
                          "(type files) cannot take write_mode 'delete' on stream 'contacts': it declares append, "
                          "upsert; no deletes")


def test_a_rest_stream_is_held_to_its_own_endpoints(tmp_path: Path) -> None:
    folder = _project(tmp_path / "api", API, {})  # upsert, the default
    [issue] = _issues(folder)
    assert issue.message.endswith("(type rest) cannot take write_mode 'upsert' on stream 'contacts': "
                                  "it declares append; no deletes")
    assert issue.line == _line(folder, "partner_out:")  # the pipeline: it sets no write_mode of its own
    load_project(_project(tmp_path / "api_append", API, {"write_mode": "append"}))


def test_a_site_takes_no_deletes(tmp_path: Path) -> None:
    [issue] = _issues(_project(tmp_path / "site", {"type": "site"}, {"write_mode": "delete"}))
    assert "system 'partner' (type site) cannot take write_mode 'delete'" in issue.message


@pytest.mark.parametrize("mode", ["append", "upsert", "delete"])
def test_a_publish_within_the_declaration_loads(tmp_path: Path, mode: str) -> None:
    assert load_project(_project(tmp_path / mode, DB, {"write_mode": mode})).config.pipelines


class _Sink(Connector):
    """A destination that only writes (a webhook, say)."""

    Config = ConnectorConfig
    capabilities = Capabilities(write_modes={APPEND}, reads=False)

    def check(self) -> None: ...
    def discover(self) -> list: return []
    def read(self, stream, cursor, options): return iter(())  # type: ignore[no-untyped-def]
    def write(self, stream, batch, mode, *, key, batch_id): return 0  # type: ignore[no-untyped-def]


class _Undeclared(_Sink):
    """A plugin written before connectors declared capabilities."""

    capabilities = None


@pytest.fixture
def fake_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """Types ``sink`` and ``legacy`` installed, as a plugin's entry points would install them."""
    fakes = {"sink": _Sink, "legacy": _Undeclared}

    def lookup(type_name: str) -> type[Connector]:
        return fakes.get(type_name) or connector_class(type_name)

    monkeypatch.setattr("officehub.config.project.connector_class", lookup)
    monkeypatch.setattr("officehub.config.capabilities.connector_class", lookup)


@pytest.mark.usefixtures("fake_types")
def test_an_ingest_from_a_system_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    folder = _project(tmp_path / "sink", {"type": "sink"}, {"write_mode": "append"})
    load_project(folder)  # publishing to it is what it declares
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["pipelines"]["partner_out"]["kind"] = "ingest"
    del config["pipelines"]["partner_out"]["write_mode"]
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    [issue] = _issues(folder)
    assert issue.message == ("pipelines.partner_out: system 'partner' (type sink) cannot be read "
                             "(stream 'contacts'): its connector declares no reads")


@pytest.mark.usefixtures("fake_types")
def test_a_plugin_that_declares_nothing_is_left_to_its_first_run(tmp_path: Path) -> None:
    assert load_project(_project(tmp_path / "legacy", {"type": "legacy"}, {"write_mode": "delete"})).config.systems


def test_officehub_check_refuses_it_in_one_line_before_any_run(tmp_path: Path) -> None:
    folder = _project(tmp_path / "cli", DROP, {"write_mode": "delete"})
    checked = run_cli("-p", str(folder), "check")
    assert checked.returncode == 2
    errors = [line for line in checked.stderr.splitlines() if line.startswith("error")]
    assert errors == [f"error officehub.yaml:{_line(folder, 'write_mode')}: pipelines.partner_out: system 'partner' "
                      "(type files) cannot take write_mode 'delete' on stream 'contacts': it declares append, "
                      "upsert; no deletes"]
    synced = run_cli("-p", str(folder), "sync", "--all")
    assert synced.returncode == 2 and "cannot take write_mode 'delete'" in synced.stderr
    assert not (folder / ".officehub").exists()  # no store, no run: refused before anything started
