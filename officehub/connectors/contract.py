"""The connector contract suite, for any connector: ``TestMine = connector_contract_tests(MyHarness)``.

A plugin author writes one class, a :class:`ContractHarness`: how to configure the
connector, put records into a real system of its kind, read back what the system holds,
and how the system fails. The factory returns a pytest test class with every contract
test that applies to what the connector declares in its :class:`Capabilities`:

- the declaration itself is coherent, and the harness's streams offer all of it;
- check and discover; a full read returns every record once, each with its position;
  reading resumes from any cursor it handed out; an incremental read after changes
  returns only what changed; a stream the system lacks is a fatal error;
- each write mode declared behaves (append adds, upserting the same batch twice leaves
  the same state, delete removes by key); each one not declared is refused with a fatal
  error and changes nothing;
- failures are retriable or fatal as the shared error vocabulary says, name the system,
  and never show a secret.

It imports pytest, pyarrow and nothing of officehub above the connector API.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pytest

from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.connectors.base import Capabilities, Connector, Cursor, ReadOptions, WriteMode

__all__ = ["ContractHarness", "ErrorCase", "Row", "connector_contract_tests", "contacts", "stamp"]

#: A record as the suite sees it: ``id`` (int), ``name``, ``email`` and ``updated_at``.
Row = dict[str, Any]

#: A stream no system has; reading it must fail.
NO_SUCH_STREAM = "officehub_no_such_stream"


def stamp(minute: int) -> str:
    """A change time as vendors write it (ISO 8601, UTC), ``minute`` minutes into the test day."""
    return f"2026-11-01T{10 + minute // 60:02d}:{minute % 60:02d}:00Z"


def contacts(ids: range, minute: int = 0, tag: str = "") -> list[Row]:
    """The suite's records with ids ``ids``; pairs share a change time, so ties cross batch boundaries."""
    return [{"id": i, "name": f"Contact {i}{tag}", "email": f"c{i}@example.org", "updated_at": stamp(minute + i // 2)}
            for i in ids]


@dataclass(frozen=True)
class ErrorCase:
    """One way the system fails, and the error the connector must turn it into."""

    #: Named in assertion messages.
    name: str
    #: ``RetriableError`` (the same call may succeed later) or ``FatalError`` (retrying will not help).
    expected: type[OfficehubError]
    #: The connector's settings for this case; None keeps the harness's own.
    settings: Mapping[str, Any] | None = None
    #: What fails: ``check``, a ``read`` of the harness's stream, or a ``write`` to its out stream.
    call: Literal["check", "read", "write"] = "check"
    #: A secret these settings use (a password, a key): no message, repr or chained error may show it.
    secret: str | None = None
    #: Puts the system in the failing state first (e.g. holds a lock); None for nothing.
    prepare: Callable[[], None] | None = None


class ContractHarness(ABC):
    """A real system of one connector's kind, with the suite's records in it: subclass it for your connector.

    The suite's records are contacts (:func:`contacts`). ``columns`` names, for each of their
    fields, the column the streams hold it in; a field missing from ``columns`` is left out of
    what the suite writes and expects. The harness is made fresh for every test, in an empty
    temporary folder, and closed afterwards.
    """

    #: The connector class under test.
    connector_class: ClassVar[type[Connector]]
    #: The stream the suite reads (filled by ``seed`` and ``change``).
    stream: ClassVar[str] = "contacts"
    #: The stream the suite writes (read back by ``written``).
    out_stream: ClassVar[str] = "contacts_out"
    #: The streams' column for each field of the suite's records.
    columns: ClassVar[Mapping[str, str]] = {"id": "id", "name": "name", "email": "email", "updated_at": "updated_at"}
    #: The system's name in the hub; every error must name it.
    system: ClassVar[str] = "system"

    def __init__(self, base_dir: Path, request: pytest.FixtureRequest) -> None:
        self.base_dir = base_dir
        #: The test's request, for fixtures a harness needs (``request.getfixturevalue("postgres_url")``).
        self.request = request

    # -- what a plugin author writes ---------------------------------------------------------------
    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """The system's settings as they would stand in officehub.yaml (with ``type``)."""

    @abstractmethod
    def seed(self, records: list[Row]) -> None:
        """Put ``records`` into the source stream."""

    def change(self, records: list[Row]) -> None:
        """Add or update ``records`` the way the vendor system would (by default: ``seed`` them)."""
        self.seed(records)

    @abstractmethod
    def written(self) -> list[Row]:
        """What the out stream holds now: ``id``, ``name`` and ``email`` of each record, as text, by id."""

    @abstractmethod
    def error_cases(self) -> list[ErrorCase]:
        """Ways this system fails (at least one): unreachable, a refused credential, a missing folder…"""

    # -- defaults a harness may override -----------------------------------------------------------
    def connector(self, settings: Mapping[str, Any] | None = None) -> Connector:
        """A connector for the system, configured from ``settings`` (default: the harness's)."""
        cls = self.connector_class
        config = cls.Config.model_validate(dict(self.settings() if settings is None else settings))
        return cls(self.system, config, self.base_dir)

    def batch(self, records: list[Row]) -> pa.RecordBatch:
        """``records`` as a batch the out stream takes (no change time: the destination keeps its own)."""
        names = {f: c for f, c in self.columns.items() if f != "updated_at"}
        return pa.RecordBatch.from_pylist([{c: r[f] for f, c in names.items()} for r in records])

    def ids(self, batch: pa.RecordBatch) -> list[int]:
        """The ids of the records in a read batch (an empty batch may carry no columns at all)."""
        return [int(v) for v in batch.column(self.columns["id"]).to_pylist()] if batch.num_rows else []

    def position_of(self, record_id: int, ordinal: int) -> str | None:
        """The position the connector must give record ``record_id`` (the ``ordinal``-th seeded, from 0).

        None: any position will do, as long as each record read has its own.
        """
        return None

    def rewind(self) -> None:
        """Put back what a read consumed, for a source that hands each record out once (a queue, an inbox)."""

    def close(self) -> None:
        """Stop whatever the harness started."""

    # -- used by the suite -------------------------------------------------------------------------
    @property
    def key(self) -> tuple[str, ...]:
        """The key the suite reads and writes by."""
        return (self.columns["id"],)

    @property
    def capabilities(self) -> Capabilities:
        """What the connector class declares."""
        declared = getattr(self.connector_class, "capabilities", None)
        assert isinstance(declared, Capabilities), (
            f"{self.connector_class.__name__} declares no capabilities: set `capabilities = Capabilities(...)` "
            "on the class")
        return declared

    def options(self, batch_size: int) -> ReadOptions:
        """How the hub would ask for the source stream."""
        by_field = self.columns.get("updated_at") if self.capabilities.cursor_field else None
        return ReadOptions(key=self.key, cursor_field=by_field, batch_size=batch_size)

    def keys_of(self, records: list[Row]) -> pa.RecordBatch:
        """Only the key columns of ``records``: what the hub sends to delete them."""
        full = self.batch(records)
        return pa.RecordBatch.from_arrays([full.column(k) for k in self.key], names=list(self.key))


# -- helpers ---------------------------------------------------------------------------------------

def _read_ids(harness: ContractHarness, cursor: Cursor | None = None, batch_size: int = 4,
              ) -> tuple[list[int], Cursor | None]:
    seen: list[int] = []
    with harness.connector() as connector:
        for batch in connector.read(harness.stream, cursor, harness.options(batch_size)):
            seen += harness.ids(batch.batch)
            cursor = batch.cursor
    return seen, cursor


def _landing_mode(capabilities: Capabilities) -> WriteMode | None:
    """The mode the suite puts records into the out stream with: upsert if declared, else append."""
    return next((m for m in (WriteMode.UPSERT, WriteMode.APPEND) if m in capabilities.write_modes), None)


def _texts(error: BaseException) -> Iterator[str]:
    """Everything an error may show: its message, repr and arguments, and those of the errors it chains."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield from (repr(arg) for arg in current.args)
        if isinstance(current, OfficehubError):
            yield current.describe()
        chained = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        current = chained


def _run(case: ErrorCase, harness: ContractHarness, connector: Connector) -> None:
    if case.call == "check":
        connector.check()
    elif case.call == "read":
        for _ in connector.read(harness.stream, None, harness.options(10)):
            pass
    else:
        mode = _landing_mode(harness.capabilities)
        assert mode is not None, f"{case.name}: a write case needs a connector that declares a write mode"
        connector.write(harness.out_stream, harness.batch(contacts(range(1, 2))), mode, key=harness.key,
                        batch_id="error-case")


# -- the tests, in mixins the factory picks from by the declaration --------------------------------

class _Declaration:
    """The harness fixture, and the test that the connector declares coherent capabilities."""

    harness_class: ClassVar[type[ContractHarness]]

    @pytest.fixture
    def harness(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ContractHarness]:
        """A fresh harness in an empty folder, closed after the test."""
        made = self.harness_class(tmp_path, request)
        try:
            yield made
        finally:
            made.close()

    def test_declares_coherent_capabilities(self, harness: ContractHarness) -> None:
        cls = harness.connector_class
        declared = harness.capabilities
        # Built again through its checks, in case a field was changed behind the frozen dataclass.
        assert Capabilities(**{f.name: getattr(declared, f.name) for f in fields(Capabilities)}) == declared
        # The hub deletes only what it sent, and the suite can only delete what it wrote.
        assert declared.write_modes or not declared.deletes, "a connector that deletes declares a write mode too"
        with harness.connector() as connector:
            assert isinstance(connector, cls)
            for stream in (harness.stream, harness.out_stream):
                offered = cls.stream_capabilities(connector.config, stream)
                assert isinstance(offered, Capabilities) and offered.within(declared), (
                    f"stream {stream!r} offers more than {cls.__name__} declares: {offered} vs {declared}")
                assert offered == declared, (
                    f"the harness's stream {stream!r} offers {offered}, less than the class declares ({declared}); "
                    "configure it to offer everything, or the suite cannot test it")


class _Contract:
    """Tests every connector that declares its capabilities passes, whatever it declares."""

    def test_check_and_discover(self, harness: ContractHarness) -> None:
        reads = harness.capabilities.reads
        if reads:
            harness.seed(contacts(range(1, 4)))
        with harness.connector() as connector:
            connector.check()
            streams = {s.name: s for s in connector.discover()}
        if reads:
            assert harness.stream in streams, f"discover lists {sorted(streams)}, not {harness.stream!r}"
            assert set(harness.columns.values()) <= {f.name for f in streams[harness.stream].fields}

    def test_one_stream_is_discovered_as_discover_lists_it(self, harness: ContractHarness) -> None:
        # Each ingest run discovers its stream alone to tell schema drift; it must agree with discover.
        if not harness.capabilities.reads:
            return
        harness.seed(contacts(range(1, 4)))
        with harness.connector() as connector:
            listed = {s.name: s for s in connector.discover()}
            assert connector.discover_stream(harness.stream) == listed[harness.stream]
            assert connector.discover_stream("no such stream") is None

    def test_failures_are_retriable_or_fatal_and_never_show_a_secret(self, harness: ContractHarness) -> None:
        cases = harness.error_cases()
        assert cases, "error_cases() must show at least one way the system fails"
        for case in cases:
            assert case.expected in (RetriableError, FatalError), f"{case.name}: expect RetriableError or FatalError"
            if case.prepare is not None:
                case.prepare()
            connector = harness.connector(case.settings)
            try:
                _run(case, harness, connector)
            except Exception as exc:  # noqa: BLE001 - whatever escapes is judged below, by case
                error: BaseException = exc
            else:
                pytest.fail(f"{case.name}: nothing was raised")
            finally:
                connector.close()
            assert isinstance(error, case.expected), (
                f"{case.name}: expected {case.expected.__name__}, got {type(error).__name__}: {error}")
            assert harness.system in error.describe(), f"{case.name}: the error does not name the system: {error}"
            if case.secret:
                shown = [text for text in _texts(error) if case.secret in text]
                assert not shown, f"{case.name}: an error shows the secret"


class _Reads:
    """Tests of a connector that reads."""

    def test_full_read_returns_every_record_once(self, harness: ContractHarness) -> None:
        harness.seed(contacts(range(1, 12)))
        seen, _ = _read_ids(harness)
        assert sorted(seen) == list(range(1, 12))
        assert len(seen) == len(set(seen))

    def test_every_record_read_has_its_own_position(self, harness: ContractHarness) -> None:
        harness.seed(contacts(range(1, 7)))
        positions: dict[int, str] = {}
        with harness.connector() as connector:
            for read in connector.read(harness.stream, None, harness.options(4)):
                assert len(read.positions) == read.batch.num_rows, "one position per record read"
                positions.update(zip(harness.ids(read.batch), read.positions))
        assert sorted(positions) == list(range(1, 7))
        assert all(isinstance(p, str) and p for p in positions.values())
        assert len(set(positions.values())) == len(positions), f"positions repeat: {positions}"
        expected = harness.position_of(4, 3)
        if expected is not None:
            assert positions[4] == expected

    def test_reading_resumes_from_any_saved_cursor(self, harness: ContractHarness) -> None:
        harness.seed(contacts(range(1, 10)))
        with harness.connector() as connector:
            batches = list(connector.read(harness.stream, None, harness.options(2)))
        everything = [i for b in batches for i in harness.ids(b.batch)]
        assert sorted(everything) == list(range(1, 10))
        resumable = [index for index, b in enumerate(batches[:-1]) if b.cursor is not None]
        assert resumable, "no batch carried a cursor to resume from"
        for index in resumable:
            harness.rewind()
            before = [i for b in batches[:index + 1] for i in harness.ids(b.batch)]
            rest, _ = _read_ids(harness, batches[index].cursor, batch_size=2)
            assert before + rest == everything, f"resuming after batch {index}"

    def test_reading_a_stream_the_system_lacks_is_fatal(self, harness: ContractHarness) -> None:
        with harness.connector() as connector, pytest.raises(FatalError) as caught:
            for _ in connector.read(NO_SUCH_STREAM, None, harness.options(10)):
                pass
        assert harness.system in caught.value.describe()


class _ReadsIncrementally:
    """Tests of a connector that declares incremental reads."""

    def test_incremental_read_after_changes_returns_only_what_changed(self, harness: ContractHarness) -> None:
        harness.seed(contacts(range(1, 9)))
        _, cursor = _read_ids(harness)
        harness.change(contacts(range(3, 4), minute=120, tag=" (moved)") + contacts(range(20, 22), minute=120))
        changed, _ = _read_ids(harness, cursor)
        assert sorted(changed) == [3, 20, 21]


class _ReadRefused:
    """Tests of a connector that declares it does not read."""

    def test_reading_is_refused(self, harness: ContractHarness) -> None:
        with harness.connector() as connector, pytest.raises(FatalError):
            for _ in connector.read(harness.stream, None, harness.options(10)):
                pass


class _Appends:
    """Tests of a connector that declares append."""

    def test_append_adds_the_records(self, harness: ContractHarness) -> None:
        with harness.connector() as connector:
            connector.write(harness.out_stream, harness.batch(contacts(range(1, 3))), WriteMode.APPEND,
                            key=harness.key, batch_id="1-2")
            connector.write(harness.out_stream, harness.batch(contacts(range(3, 4))), WriteMode.APPEND,
                            key=harness.key, batch_id="3-3")
        written = harness.written()
        assert [r["id"] for r in written] == ["1", "2", "3"]
        assert [r["name"] for r in written] == ["Contact 1", "Contact 2", "Contact 3"]


class _Upserts:
    """Tests of a connector that declares upsert."""

    def test_upserting_the_same_batch_twice_leaves_the_same_state(self, harness: ContractHarness) -> None:
        out, key = harness.out_stream, harness.key
        with harness.connector() as connector:
            connector.write(out, harness.batch(contacts(range(1, 3))), WriteMode.UPSERT, key=key, batch_id="1-2")
            once = harness.written()
            connector.write(out, harness.batch(contacts(range(1, 3))), WriteMode.UPSERT, key=key, batch_id="1-2")
            twice = harness.written()
            connector.write(out, harness.batch(contacts(range(2, 3), tag=" (new)")), WriteMode.UPSERT, key=key,
                            batch_id="3-3")
            changed = harness.written()
        assert once == twice
        assert [r["id"] for r in once] == ["1", "2"]
        assert "Contact 2 (new)" in [r["name"] for r in changed] and [r["id"] for r in changed].count("1") == 1


class _Deletes:
    """Tests of a connector that declares deletes."""

    def test_delete_removes_by_key(self, harness: ContractHarness) -> None:
        mode = _landing_mode(harness.capabilities)
        assert mode is not None
        with harness.connector() as connector:
            connector.write(harness.out_stream, harness.batch(contacts(range(1, 4))), mode, key=harness.key,
                            batch_id="1-3")
            connector.write(harness.out_stream, harness.keys_of(contacts(range(2, 3))), WriteMode.DELETE,
                            key=harness.key, batch_id="4-4")
        assert [r["id"] for r in harness.written()] == ["1", "3"]


def _refusal(mode: WriteMode) -> Callable[[Any, ContractHarness], None]:
    """A test that ``mode``, not declared, is refused with a FatalError naming the system, and changes nothing."""

    def test(self: Any, harness: ContractHarness) -> None:
        kept = _landing_mode(harness.capabilities)
        with harness.connector() as connector:
            before = None
            if kept is not None:
                connector.write(harness.out_stream, harness.batch(contacts(range(1, 3))), kept, key=harness.key,
                                batch_id="1-2")
                before = harness.written()
            sent = harness.keys_of if mode is WriteMode.DELETE else harness.batch
            with pytest.raises(FatalError) as caught:
                connector.write(harness.out_stream, sent(contacts(range(2, 3), tag=" (new)")), mode, key=harness.key,
                                batch_id="3-3")
        assert harness.system in caught.value.describe()
        if before is not None:
            assert harness.written() == before

    test.__name__ = f"test_{mode.value}_is_refused"
    test.__doc__ = f"A connector that does not declare {mode.value} says so, and the destination is unchanged."
    return test


_REFUSED = {mode: type(f"_{mode.value.title()}Refused", (), {f"test_{mode.value}_is_refused": _refusal(mode)})
            for mode in WriteMode}
_DECLARED_WRITES: dict[WriteMode, type] = {WriteMode.APPEND: _Appends, WriteMode.UPSERT: _Upserts,
                                           WriteMode.DELETE: _Deletes}


def connector_contract_tests(harness_class: type[ContractHarness]) -> type:
    """A pytest test class running the connector contract through ``harness_class``.

    Which tests it holds follows the connector class's declared :class:`Capabilities`:
    what is declared is tested to work, what is not is tested to be refused. A connector
    that declares nothing gets the one test that says so. Use it at module level of a test
    file: ``TestMyConnector = connector_contract_tests(MyHarness)``.
    """
    declared = getattr(harness_class.connector_class, "capabilities", None)
    mixins: list[type] = []
    if isinstance(declared, Capabilities):
        mixins.append(_Contract)
        if declared.reads:
            mixins += [_Reads] + ([_ReadsIncrementally] if declared.incremental else [])
        else:
            mixins.append(_ReadRefused)
        mixins += [_DECLARED_WRITES[mode] if declared.accepts(mode) else _REFUSED[mode] for mode in WriteMode]
    name = f"{harness_class.__name__}Contract"
    # pytest collects a class's tests base by base from the last: this lists them in reading order.
    return type(name, (*reversed(mixins), _Declaration), {
        "harness_class": harness_class,
        "__doc__": f"The connector contract, run through {harness_class.__name__}.",
        "__module__": harness_class.__module__,
    })
