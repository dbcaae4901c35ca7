"""Hostile input in drop folders: each bad line is quarantined alone, and the folder's edges hold.

Every test here builds its files in ``tmp_path`` and reads them through the files connector,
so what is checked is what a pipeline gets: rows, rejects (reason and position), and errors.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import ValidationError

from officehub.canonical_model.errors import FatalError
from officehub.config import ConfigError, load_project
from officehub.connectors import ReadOptions, WriteMode
from officehub.connectors.files import FilesConfig, FilesConnector

CSV = {"pattern": "*.csv"}
LAYOUT = [{"name": "SKU", "start": 0, "length": 4}, {"name": "NAME", "start": 4, "length": 6}]
ITEMS = {"pattern": "*.txt", "format": "fixed_width", "layout": LAYOUT}


def _connector(tmp_path: Path, *, make: bool = True, **settings) -> FilesConnector:
    config = FilesConfig.model_validate({"path": str(tmp_path / "drop"), **settings})
    if make:
        config.path.mkdir(exist_ok=True)
    return FilesConnector("vendor", config, tmp_path)


def _read(connector: FilesConnector, stream: str = "s"):
    """(rows, positions, rejects) of one full read."""
    batches = list(connector.read(stream, None, ReadOptions(batch_size=10_000)))
    return ([r for b in batches for r in b.batch.to_pylist()], [p for b in batches for p in b.positions],
            [r for b in batches for r in b.rejects])


def _load(tmp_path: Path, name: str, payload: bytes, spec: dict = CSV):
    connector = _connector(tmp_path, streams={"s": spec})
    (tmp_path / "drop" / name).write_bytes(payload)
    return _read(connector)


# --- 1. a field over the limit ---------------------------------------------------------------

def test_a_10_mb_field_quarantines_its_record_only_and_the_rest_of_the_file_loads(tmp_path: Path):
    huge = b"x" * (10 << 20)
    rows, positions, rejects = _load(tmp_path, "a.csv", b"id,name\n1,Ann\n2," + huge + b"\n3,Cy\n")
    assert rows == [{"id": "1", "name": "Ann"}, {"id": "3", "name": "Cy"}]
    assert positions == ["a.csv:2", "a.csv:4"]
    assert [(r.position, r.reason) for r in rejects] == [("a.csv:3", "a field is longer than 131072 characters")]
    # The quarantine keeps the start of the line, not 10 MB of it.
    assert len(rejects[0].raw["line"]) <= 131072 and rejects[0].raw["characters"] == len(huge) + 3


# --- 2. broken quotes, miscounted rows, long fixed-width lines --------------------------------

def test_an_unterminated_quote_does_not_swallow_the_rows_after_it(tmp_path: Path):
    rows, positions, rejects = _load(tmp_path, "a.csv", b'id,name,email\n1,"Ann,a@x\n2,Bob,b@x\n3,Cy,c@x\n')
    assert rows == [{"id": "2", "name": "Bob", "email": "b@x"}, {"id": "3", "name": "Cy", "email": "c@x"}]
    assert positions == ["a.csv:3", "a.csv:4"]
    assert [(r.position, r.reason) for r in rejects] == [("a.csv:2", "a quote opened on this line is never closed")]


def test_a_stray_quote_closed_by_a_later_row_rejects_only_its_own_line(tmp_path: Path):
    rows, _, rejects = _load(tmp_path, "a.csv", b'id,name,email\n1,"Ann,a@x\n2,"Bob",b@x\n3,Cy,c@x\n')
    assert [r["id"] for r in rows] == ["2", "3"]
    assert rows[0]["name"] == "Bob"
    assert [(r.position, r.reason) for r in rejects] == [
        ("a.csv:2", "a quote opened on this line closes on line 3 with more text after it")]


def test_a_quote_that_never_closes_in_a_long_file_is_bounded_by_the_field_limit(tmp_path: Path):
    body = b"".join(b"%d,name %d\n" % (i, i) for i in range(2, 20_000))
    rows, _, rejects = _load(tmp_path, "a.csv", b'id,name\n1,"Ann\n' + body)
    assert len(rows) == 19_998 and rows[0] == {"id": "2", "name": "name 2"}
    assert [r.position for r in rejects] == ["a.csv:2"]
    assert rejects[0].reason == "a quote opened on this line is not closed within 131072 characters"


def test_quoted_fields_may_still_span_lines_and_hold_lone_quotes(tmp_path: Path):
    rows, positions, rejects = _load(tmp_path, "a.csv", b'id,note\n1,"two\nlines"\n2,5" screen\n3,"say ""hi"""\n')
    assert rows == [{"id": "1", "note": "two\nlines"}, {"id": "2", "note": '5" screen'},
                    {"id": "3", "note": 'say "hi"'}]
    assert positions == ["a.csv:2", "a.csv:4", "a.csv:5"] and not rejects


@pytest.mark.parametrize(("line", "reason"), [
    (b"2,Bob", "2 fields where the header has 3"),
    (b"2", "1 field where the header has 3"),
    (b"2,Bob,b@x,extra", "4 fields where the header has 3"),
])
def test_a_row_with_too_few_or_too_many_fields_is_rejected(tmp_path: Path, line: bytes, reason: str):
    rows, _, rejects = _load(tmp_path, "a.csv", b"id,name,email\n1,Ann,a@x\n" + line + b"\n3,Cy,c@x\n")
    assert [r["id"] for r in rows] == ["1", "3"]
    assert [(r.position, r.reason) for r in rejects] == [("a.csv:3", reason)]


def test_a_fixed_width_line_longer_than_the_layout_is_rejected_not_cut(tmp_path: Path):
    payload = b"A1  Ann   \nA2  Bob   EXTRA\nA3  Cy    \nA4  Dee       \n"
    rows, positions, rejects = _load(tmp_path, "a.txt", payload, ITEMS)
    # Trailing blanks past the layout are padding, not data.
    assert rows == [{"SKU": "A1", "NAME": "Ann"}, {"SKU": "A3", "NAME": "Cy"}, {"SKU": "A4", "NAME": "Dee"}]
    assert positions == ["a.txt:1", "a.txt:3", "a.txt:4"]
    assert [(r.position, r.reason) for r in rejects] == [
        ("a.txt:2", "the line has 15 characters; the layout ends at 10")]


# --- 3. NUL bytes ------------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "name", "payload", "position"), [
    (CSV, "a.csv", b"id,name\n1,Ann\n2,B\x00ob\n3,Cy\n", "a.csv:3"),
    ({"pattern": "*.jsonl", "format": "jsonl"}, "a.jsonl",
     b'{"id": "1", "name": "Ann"}\n{"id": "2", "name": "B\\u0000ob"}\n{"id": "3", "name": "Cy"}\n', "a.jsonl:2"),
    (ITEMS, "a.txt", b"1   Ann   \n2   B\x00ob  \n3   Cy    \n", "a.txt:2"),
])
def test_a_nul_byte_rejects_its_row_naming_the_field_not_the_value(tmp_path: Path, spec: dict, name: str,
                                                                   payload: bytes, position: str):
    rows, _, rejects = _load(tmp_path, name, payload, spec)
    assert len(rows) == 2 and all("\x00" not in str(v) for r in rows for v in r.values())
    field = "NAME" if spec is ITEMS else "name"
    assert [(r.position, r.reason) for r in rejects] == [(position, f"field {field} contains a NUL character")]
    # PostgreSQL refuses NUL in text: the quarantine entry itself must be storable.
    assert "\x00" not in repr(rejects[0].raw) and "ob" not in rejects[0].reason


# --- 4. patterns and symbolic links stay inside the folder ------------------------------------

@pytest.mark.parametrize(("pattern", "message"), [
    ("../../etc/*.csv", "must stay inside the system's folder"),
    ("in/../../*.csv", "must stay inside the system's folder"),
    ("/etc/*.csv", "an absolute path is not allowed"),
])
def test_a_pattern_outside_the_folder_is_a_config_error(tmp_path: Path, pattern: str, message: str):
    with pytest.raises(ValidationError, match=message):
        FilesConfig.model_validate({"path": "drop", "streams": {"s": {"pattern": pattern}}})


def test_check_reports_a_climbing_pattern_with_file_and_line(tmp_path: Path):
    (tmp_path / "officehub.yaml").write_text(
        "hub:\n  name: t\nsystems:\n  drop:\n    type: files\n    path: in\n    streams:\n"
        "      s:\n        pattern: ../secret/*.csv\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    issues = [i for i in caught.value.issues if "inside the system's folder" in i.message]
    assert len(issues) == 1 and issues[0].file == "officehub.yaml" and issues[0].line >= 7


def _links(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret.csv").write_bytes(b"id\nsecret\n")
    (outside / "sub" / "deep.csv").write_bytes(b"id\ndeep\n")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "own.csv").write_bytes(b"id\nown\n")
    (drop / "linked.csv").symlink_to(outside / "secret.csv")
    (drop / "linked_dir").symlink_to(outside / "sub")
    return drop


def test_symbolic_links_are_not_followed_unless_the_system_allows_it(tmp_path: Path):
    _links(tmp_path)
    streams = {"s": {"pattern": "**/*.csv"}}
    closed = _connector(tmp_path, make=False, streams=streams)
    assert [r["id"] for r in _read(closed)[0]] == ["own"]
    assert closed.estimate_rows("s") == 2
    opened = _connector(tmp_path, make=False, streams=streams, follow_symlinks=True)
    assert sorted(r["id"] for r in _read(opened)[0]) == ["own", "secret"]


def test_a_symlinked_folder_named_by_the_pattern_is_not_followed_unless_allowed(tmp_path: Path):
    _links(tmp_path)
    streams = {"s": {"pattern": "linked_dir/*.csv"}}
    assert _read(_connector(tmp_path, make=False, streams=streams))[0] == []
    opened = _connector(tmp_path, make=False, streams=streams, follow_symlinks=True)
    assert _read(opened)[0] == [{"id": "deep"}]


# --- 5. writing to a drop folder ---------------------------------------------------------------

BATCH = pa.RecordBatch.from_pydict({"id": ["1"]})


def test_a_missing_destination_folder_is_a_fatal_error_naming_system_and_folder(tmp_path: Path):
    connector = _connector(tmp_path, make=False, streams={"s": CSV})
    with pytest.raises(FatalError) as caught:
        connector.write("s", BATCH, WriteMode.APPEND, key=(), batch_id="1")
    assert "vendor" in str(caught.value) and str(tmp_path / "drop") in str(caught.value)
    assert "create: true" in str(caught.value)
    assert not (tmp_path / "drop").exists()
    with pytest.raises(FatalError):
        connector.check()


def test_create_true_makes_the_folder_at_the_first_write(tmp_path: Path):
    connector = _connector(tmp_path, make=False, streams={"s": CSV}, path=str(tmp_path / "out" / "drop"),
                           create=True)
    connector.check()
    assert connector.write("s", BATCH, WriteMode.APPEND, key=(), batch_id="1") == 1
    assert (tmp_path / "out" / "drop" / "s_1.csv").is_file()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_honour_the_umask_by_default(tmp_path: Path):
    connector = _connector(tmp_path, streams={"s": CSV})
    old = os.umask(0o022)
    try:
        connector.write("s", BATCH, WriteMode.APPEND, key=(), batch_id="1")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "drop" / "s_1.csv") == 0o644


def test_file_mode_sets_the_permissions_of_written_files(tmp_path: Path):
    connector = _connector(tmp_path, streams={"s": CSV}, file_mode="0640")
    old = os.umask(0o077)
    try:
        connector.write("s", BATCH, WriteMode.APPEND, key=(), batch_id="1")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "drop" / "s_1.csv") == 0o640
    assert [p.name for p in (tmp_path / "drop").iterdir()] == ["s_1.csv"]


@pytest.mark.parametrize("mode", ["rw-r-----", "0980", "12345", 416])
def test_file_mode_must_be_an_octal_string(mode: object):
    with pytest.raises(ValidationError, match="octal permission string"):
        FilesConfig.model_validate({"path": "drop", "streams": {"s": CSV}, "file_mode": mode})


def test_a_miscounted_record_that_spans_lines_is_rejected_whole_and_its_tail_never_loads(tmp_path: Path):
    payload = b'id,name,email\n1,"Ann\nSmith",a@x,extra\n2,Bob,b@x\n'
    rows, _, rejects = _load(tmp_path, "a.csv", payload)
    assert rows == [{"id": "2", "name": "Bob", "email": "b@x"}]
    assert [(r.position, r.reason) for r in rejects] == [
        ("a.csv:2", "a record on lines 2-3 (a quoted field spans lines) has 4 fields where the header has 3")]
    assert rejects[0].raw["field_2"] == "Ann\nSmith"


def test_an_unclosed_quote_on_a_line_with_a_bad_byte_keeps_a_storable_raw_line(tmp_path: Path):
    rows, _, rejects = _load(tmp_path, "a.csv", b'id,name\n1,"An\xffn\n2,Bob\n')
    assert rows == [{"id": "2", "name": "Bob"}]
    assert rejects[0].raw["line"] == b'1,"An\xffn'.hex()


def test_a_header_row_that_cannot_be_parsed_fails_the_stream_naming_the_file(tmp_path: Path):
    with pytest.raises(FatalError, match=r"a\.csv: the header row cannot be parsed") as caught:
        _load(tmp_path, "a.csv", b'id,"name\n1,Ann\n')
    assert caught.value.system == "vendor" and "Ann" not in str(caught.value)
