"""The leak scan fails a test whose output shows a registered secret or a sentinel, and only then.

Each case runs a small test suite of its own in a subprocess (pytester), with the plugin loaded
the way tests/conftest.py loads it, and reads the verdict.
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT

SUITE = '''
import logging
import subprocess
import sys

import pytest

from tests.leak_scan import note_output, register_secret

PASSWORD = register_secret("pw-7Hq2-never-shown", "password")


def test_prints_a_password():
    print("signing in with", PASSWORD)


def test_logs_a_medical_sentinel(caplog):
    logging.getLogger("officehub.test").warning("note: SNTL-MED-OCC-1 no lifting")


def test_a_cli_call_shows_a_legal_date():
    done = subprocess.run([sys.executable, "-c", "print('hold since 14.02.1914')"], capture_output=True, text=True)
    note_output("officehub policy preview", done.stdout)


def test_writes_to_stderr_in_setup(leaky):
    pass


@pytest.fixture
def leaky():
    print("token", PASSWORD, file=sys.stderr)


@pytest.mark.shows_secret("password", reason="a one-time password is printed to the admin who made the account")
def test_shows_a_password_on_purpose():
    print("one-time password:", PASSWORD)


def test_clean_output():
    print("3 records, 1 quarantined at crm.csv:4 (field health contains a NUL character)")
'''


@pytest.fixture
def outcome(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.RunResult:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest_subprocess("-p", "tests.leak_scan", "-p", "no:cacheprovider", "-rfEp")


# The suites under test print leaks on purpose: pytester shows their output in these tests' own.
pytestmark = pytest.mark.shows_secret("password", "medical sentinel", "legal sentinel",
                                      reason="the inner suites leak on purpose; the scan is what is tested")


def test_each_leaking_test_fails_and_the_others_pass(outcome: pytest.RunResult) -> None:
    outcome.assert_outcomes(passed=2, failed=3, errors=1)
    text = outcome.stdout.str()
    for name in ("test_prints_a_password", "test_logs_a_medical_sentinel", "test_a_cli_call_shows_a_legal_date"):
        assert f"FAILED test_suite.py::{name}" in text
    assert "ERROR test_suite.py::test_writes_to_stderr_in_setup" in text
    assert "PASSED test_suite.py::test_shows_a_password_on_purpose" in text
    assert "PASSED test_suite.py::test_clean_output" in text


def test_a_failure_names_the_kind_and_the_place_never_the_value(outcome: pytest.RunResult) -> None:
    text = outcome.stdout.str()
    assert "leak scan: a password in the Captured stdout call" in text
    assert "leak scan: a medical sentinel in the Captured log call" in text
    assert "leak scan: a legal sentinel in the output of officehub policy preview" in text
    assert "leak scan: a password in the Captured stderr setup" in text
    # Not even in the captured output pytest shows for a failed test: there the value is withheld.
    assert "signing in with <password withheld>" in text
    assert "note: <medical sentinel withheld> no lifting" in text
    assert "pw-7Hq2-never-shown" not in text and "SNTL" not in text


def test_a_marker_without_a_reason_is_refused(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_bare='''
import pytest

@pytest.mark.shows_secret("password")
def test_bare():
    pass
''')
    done = pytester.runpytest_subprocess("-p", "tests.leak_scan", "-p", "no:cacheprovider")
    assert done.ret != 0 and "shows_secret needs a reason" in done.stdout.str() + done.stderr.str()


def test_too_short_a_secret_cannot_be_registered() -> None:
    from tests.leak_scan import register_secret

    with pytest.raises(ValueError, match="at least 6 characters"):
        register_secret("abc", "password")
