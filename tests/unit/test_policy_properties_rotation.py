"""Properties of key rotation and of comparing two plans, on generated tables and policies.

Under a new key, no pseudonym made with the old key (nor a raw value) reaches the
destination; and comparing the decisions a destination was sent under with a new plan
asks for a re-publication on every tightening and key change, never on a pure loosening.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.policies import (
    CompileContext,
    KeyRing,
    PolicyDocument,
    PolicySet,
    compile_plan,
    detokenize,
    entity_fields,
)
from officehub.policies.changes import compare, decisions_in_force
from officehub.policies.operators import operators

TODAY = date(2026, 6, 1)
OLD, NEW = "k-old", "k-new"
RING = {OLD: b"o" * 32, NEW: b"n" * 32}
#: Customer text fields that are not special categories: any action may apply to them.
FIELDS = [path for path, leaf in entity_fields("customer") if pa.types.is_string(leaf.arrow_type)
          and leaf.sensitivity is not None and not leaf.sensitivity.is_special_category]
COLUMN = {path: leaf.column for path, leaf in entity_fields("customer")}
ACTIONS = ["allow", "mask", "tokenize", "hash", "redact", "nullify", "drop"]
STRICTNESS = {name: operators()[name].strictness for name in ACTIONS}
#: Actions that leave the destination nothing derived from a value (the value itself, a constant, nothing).
PLAIN = {"allow", "redact", "nullify", "drop"}
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10)


def _plan(actions: dict[str, str], active: str):  # type: ignore[no-untyped-def]
    doc = PolicyDocument.model_validate({
        "name": "generated",
        "agreements": [{"id": "a", "destination": "d", "purpose": "reporting", "legal_basis": "contract",
                        "valid_from": "2020-01-01"}],
        "rules": [{"id": f"r{i}", "select": {"field": f"customer.{path}"}, "action": action}
                  for i, (path, action) in enumerate(sorted(actions.items()))],
    })
    return compile_plan("customer", "d", CompileContext(PolicySet((doc,)), KeyRing(RING, active), TODAY))


def _hmac(key: str, value: str) -> str:
    _, secret = KeyRing(RING, key).derive("hash")
    return f"{key}:{hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]}"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(FIELDS), st.lists(st.none() | TEXT, min_size=1, max_size=6))
def test_under_a_new_key_pseudonyms_are_the_new_keys_only(path: str, values: list[str | None]):
    column = COLUMN[path]
    table = pa.table({column: pa.array(values, pa.string())})

    hashed = _plan({path: "hash"}, NEW).apply(table).columns[column].to_pylist()
    tokens = _plan({path: "tokenize"}, NEW).apply(table).columns[column].to_pylist()

    for value, pseudonym, token in zip(values, hashed, tokens, strict=True):
        if value is None:
            assert pseudonym is None and token is None
            continue
        assert pseudonym == _hmac(NEW, value) != _hmac(OLD, value) and pseudonym != value
        assert token.startswith(f"tok:{NEW}:") and detokenize(token, f"customer.{path}", KeyRing(RING, OLD)) == value


@st.composite
def _moves(draw, tighten: bool) -> tuple[dict[str, str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """Old and new actions for some fields; tightening moves at least one field up, loosening every one down."""
    paths = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=5, unique=True))
    before, after = {}, {}
    for path in paths:
        old = draw(st.sampled_from(ACTIONS))
        if tighten:
            stricter = [a for a in ACTIONS if STRICTNESS[a] > STRICTNESS[old]]
            new = draw(st.sampled_from(stricter)) if stricter else old
        else:
            # A pure loosening: lower strictness, and nothing derived left behind to mix with the new form.
            looser = [a for a in ACTIONS if STRICTNESS[a] < STRICTNESS[old] and (a == "allow" or old in PLAIN)]
            new = draw(st.sampled_from(looser)) if looser else old
        before[path], after[path] = old, new
    if tighten and before == after:
        first = paths[0]
        before[first], after[first] = "allow", "drop"
    return before, after


@settings(max_examples=80, deadline=None)
@given(_moves(tighten=True), st.sampled_from([OLD, NEW]))
def test_every_tightening_asks_for_a_re_publication(moves: tuple[dict, dict], active: str):
    before, after = moves
    change = compare(decisions_in_force(_plan(before, active)), _plan(after, active))

    assert change.republish
    assert set(change.tightened) == {p for p in before if STRICTNESS[after[p]] > STRICTNESS[before[p]]}


@settings(max_examples=80, deadline=None)
@given(_moves(tighten=False), st.sampled_from([OLD, NEW]))
def test_a_pure_loosening_asks_for_none(moves: tuple[dict, dict], active: str):
    before, after = moves
    assert not compare(decisions_in_force(_plan(before, active)), _plan(after, active)).republish


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True),
       st.sampled_from(["hash", "tokenize"]))
def test_a_new_active_key_re_keys_every_keyed_field_and_tightens_none(paths: list[str], action: str):
    actions = {path: action for path in paths}

    change = compare(decisions_in_force(_plan(actions, OLD)), _plan(actions, NEW))

    assert change.republish and change.tightened == ()
    assert change.rekeyed == {path: (OLD, NEW) for path in paths}
    assert change.key_moves() == [(OLD, NEW)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True))
def test_consent_added_to_a_released_field_asks_for_a_re_publication(paths: list[str]):
    before = compile_plan("customer", "d", CompileContext(PolicySet((_doc(paths, None),)), KeyRing(RING, OLD), TODAY))
    after = compile_plan("customer", "d", CompileContext(PolicySet((_doc(paths, "customer.consents.marketing"),)),
                                                         KeyRing(RING, OLD), TODAY))
    assert set(compare(decisions_in_force(before), after).tightened) == set(paths)


def _doc(paths: list[str], consent: str | None) -> PolicyDocument:
    return PolicyDocument.model_validate({
        "name": "generated",
        "agreements": [{"id": "a", "destination": "d", "purpose": "reporting", "legal_basis": "contract",
                        "valid_from": "2020-01-01"}],
        "rules": [{"id": f"r{i}", "select": {"field": f"customer.{p}"}, "action": "allow", "consent": consent}
                  for i, p in enumerate(paths)],
    })
