"""A reveal or a detokenize needs a reason worth recording: the services' one rule for it."""

from __future__ import annotations

import pytest

from officehub.canonical_model.errors import FatalError
from officehub.services.reasons import MIN_REASON, ReasonRequired, stated_reason


@pytest.mark.parametrize("reason", [None, "", " " * 20, "n/a", "x" * (MIN_REASON - 1), f"  {'y' * (MIN_REASON - 1)}  "])
def test_a_reason_that_says_nothing_is_refused(reason):
    with pytest.raises(ReasonRequired, match=f"revealing a record needs a reason with at least {MIN_REASON}"):
        stated_reason(reason, "revealing a record")


def test_a_refusal_is_fatal_so_every_caller_stops_and_exits_as_on_a_configuration_error():
    assert issubclass(ReasonRequired, FatalError)


def test_a_stated_reason_comes_back_stripped():
    assert stated_reason("  ticket ST-1042 \n", "detokenize") == "ticket ST-1042"


def test_the_cli_applies_the_same_rule_and_names_its_option():
    from officehub.cli.options import stated_reason as cli_reason

    assert cli_reason("  ticket ST-1042 \n", "detokenize") == "ticket ST-1042"
    with pytest.raises(FatalError, match=f"detokenize needs --reason with at least {MIN_REASON}"):
        cli_reason("x" * (MIN_REASON - 1), "detokenize")
