"""Policy operators on small Arrow arrays: what each one sends, with nulls, keys and bad parameters."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from pydantic import ValidationError

from officehub.canonical_model.errors import FatalError
from officehub.policies import KeyRing, Rule
from officehub.policies.operators import (
    Allow,
    Drop,
    Generalize,
    Hash,
    Mask,
    Nullify,
    OperatorContext,
    Redact,
    Tokenize,
    detokenize,
)

TODAY = date(2026, 6, 15)
KEYS = KeyRing({"k1": b"1" * 32, "k2": b"2" * 32}, "k1")
TEXT = pa.array(["Kowalczyk", None, "Ольга-Ünïcode", "ab"])


def op(cls, path: str = "customer.notes", keys: KeyRing = KEYS, **params):  # type: ignore[no-untyped-def]
    return cls(cls.Params(**params), OperatorContext(path, keys, TODAY))


def test_allow_passes_through_and_drop_sends_nothing():
    assert op(Allow).apply(TEXT).to_pylist() == TEXT.to_pylist()
    assert op(Drop).apply(TEXT) is None
    assert not op(Allow).withholds and op(Drop).withholds


@pytest.mark.parametrize("column", [TEXT, pa.array([date(1990, 1, 2), None], pa.date32()),
                                    pa.array([Decimal("1.50"), None], pa.decimal128(18, 2))])
def test_nullify_keeps_the_column_type_and_sends_only_nulls(column):
    out = op(Nullify).apply(column)
    assert out.type == column.type and len(out) == len(column) and out.null_count == len(column)


def test_redact_replaces_present_values_with_a_constant_and_keeps_nulls():
    assert op(Redact).apply(TEXT).to_pylist() == ["[REDACTED]", None, "[REDACTED]", "[REDACTED]"]
    dates = pa.array([date(1990, 1, 2), None])
    assert op(Redact, value="n/a").apply(dates).to_pylist() == ["n/a", None]


def test_mask_keeps_first_and_last_characters():
    out = op(Mask, keep_first=1, keep_last=2).apply(TEXT).to_pylist()
    assert out == ["K******yk", None, "О**********de", "**"]  # 'ab' is no longer than 1+2 kept: all hidden
    assert op(Mask).apply(pa.array(["UA213223130000026007233566001"])).to_pylist() == ["*" * 25 + "6001"]


def test_mask_hides_short_values_whole_with_the_chosen_character():
    out = op(Mask, keep_first=2, keep_last=2, char="#").apply(pa.array(["abcd", "abc", "", "abcde"])).to_pylist()
    assert out == ["####", "###", "", "ab#de"]


def test_mask_email_style_keeps_only_the_first_letter_and_the_domain():
    emails = pa.array(["ivanna.koval@example.com", None, "a@b.example"])
    assert op(Mask, style="email").apply(emails).to_pylist() == ["i***@example.com", None, "a***@b.example"]


def test_mask_email_style_never_passes_a_value_through_verbatim():
    out = op(Mask, style="email").apply(pa.array(["Kowalczyk, diabetic"])).to_pylist()
    assert "Kowalczyk, diabetic" not in out


def test_hash_is_keyed_deterministic_and_shaped_as_kid_hex():
    values = pa.array(["E00017", None, "E00017", "E00018"])
    first = op(Hash).apply(values).to_pylist()
    assert first == op(Hash).apply(values).to_pylist()
    assert first[1] is None and first[0] == first[2] != first[3]
    assert all(re.fullmatch(r"k1:[0-9a-f]{32}", v) for v in first if v)
    assert all(re.fullmatch(r"k1:[0-9a-f]{16}", v) for v in op(Hash, length=16).apply(values).to_pylist() if v)
    other_key = op(Hash, key="k2").apply(values).to_pylist()
    assert other_key[0].startswith("k2:") and other_key[0][3:] != first[0][3:]
    # Same secret under another key id: the id travels with the pseudonym.
    renamed = op(Hash, keys=KeyRing({"kx": b"1" * 32}, "kx")).apply(values).to_pylist()
    assert renamed[0] == "kx:" + first[0][3:] and renamed[0] != first[0]
    assert all("E0001" not in v for v in first if v)


def test_hash_and_tokenize_need_a_known_key():
    for cls in (Hash, Tokenize):
        with pytest.raises(FatalError, match="nope"):
            op(cls, key="nope").apply(TEXT)
        with pytest.raises(FatalError):
            op(cls, keys=KeyRing()).apply(TEXT)


def test_tokenize_is_deterministic_and_reversible_for_its_field():
    path = "employee.bank_account_iban"
    tokens = op(Tokenize, path).apply(TEXT).to_pylist()
    assert tokens == op(Tokenize, path).apply(TEXT).to_pylist()
    assert tokens[1] is None
    for value, token in zip(TEXT.to_pylist(), tokens):
        if value is None:
            continue
        assert token.startswith("tok:k1:") and value not in token
        assert detokenize(token, path, KEYS) == value
    assert op(Tokenize, path, key="k2").apply(TEXT)[0].as_py().startswith("tok:k2:")


def test_a_token_does_not_open_for_another_field_a_tampered_token_or_an_unknown_key():
    token = op(Tokenize, "employee.bank_account_iban").apply(pa.array(["UA213223130000026007233566001"]))[0].as_py()
    with pytest.raises(FatalError, match="does not verify"):
        detokenize(token, "customer.notes", KEYS)
    prefix, body = token[:7], token[7:]
    middle = len(body) // 2
    tampered = prefix + body[:middle] + ("A" if body[middle] != "A" else "B") + body[middle + 1:]
    with pytest.raises(FatalError, match="does not verify"):
        detokenize(tampered, "employee.bank_account_iban", KEYS)
    with pytest.raises(FatalError, match="k9"):
        detokenize(token.replace("tok:k1:", "tok:k9:"), "employee.bank_account_iban", KEYS)
    with pytest.raises(FatalError, match="not a token"):
        detokenize("UA213223130000026007233566001", "employee.bank_account_iban", KEYS)
    # Another key ring with the same key id but another secret cannot open it either.
    with pytest.raises(FatalError):
        detokenize(token, "employee.bank_account_iban", KeyRing({"k1": b"x" * 32}, "k1"))


BIRTHS = pa.array([date(1936, 6, 15), date(1936, 6, 16), date(1990, 3, 4), None, date(2000, 12, 31)])


def test_generalize_dates_to_year_and_month():
    assert op(Generalize, to="year").apply(BIRTHS).to_pylist() == ["1936", "1936", "1990", None, "2000"]
    assert op(Generalize, to="month").apply(BIRTHS).to_pylist() == ["1936-06", "1936-06", "1990-03", None, "2000-12"]
    assert op(Generalize, to="year").apply(pa.array(["2020-05-06", None])).to_pylist() == ["2020", None]


def test_generalize_year_collapses_ages_from_top_age_on():
    # 2026-06-15: born 1936-06-15 is 90 today, born a day later is still 89.
    assert op(Generalize, to="year", top_age=90).apply(BIRTHS).to_pylist() == ["90+", "1936", "1990", None, "2000"]


def test_generalize_age_bands_with_and_without_a_top():
    assert op(Generalize, to="age_band").apply(BIRTHS).to_pylist() == ["90-99", "80-89", "30-39", None, "20-29"]
    assert op(Generalize, to="age_band", band_size=5, top_age=90).apply(BIRTHS).to_pylist() == \
        ["90+", "85-89", "35-39", None, "25-29"]


def test_generalize_prefix_and_number_band():
    assert op(Generalize, to="prefix").apply(pa.array(["02134", None, "12"])).to_pylist() == ["021", None, "12"]
    assert op(Generalize, to="prefix", prefix_length=1).apply(pa.array(["02134"])).to_pylist() == ["0"]
    money = pa.array([Decimal("1234.50"), None, Decimal("999.99")], pa.decimal128(18, 2))
    assert op(Generalize, to="band", band_size=1000).apply(money).to_pylist() == ["1000-1999", None, "0-999"]


@pytest.mark.parametrize("cls, params", [
    (Generalize, {"to": "week"}),
    (Generalize, {"to": "prefix", "top_age": 90}),
    (Generalize, {"to": "month", "top_age": 90}),
    (Generalize, {"to": "prefix", "prefix_length": 0}),
    (Generalize, {"to": "band", "band_size": 0}),
    (Mask, {"char": "**"}),
    (Mask, {"keep_last": -1}),
    (Mask, {"style": "phone"}),
    (Hash, {"length": 8}),
    (Hash, {"length": 65}),
    (Hash, {"salt": "x"}),
    (Redact, {"constant": "x"}),
    (Tokenize, {"length": 20}),
])
def test_bad_parameters_are_validation_errors(cls, params):
    with pytest.raises(ValidationError):
        cls.Params(**params)
    with pytest.raises(ValidationError):
        Rule.model_validate({"id": "r", "select": {"field": "customer.notes"}, "action": cls.name, "params": params})


def test_operators_without_parameters_and_unknown_actions_are_rejected():
    with pytest.raises(ValidationError):
        Rule.model_validate({"id": "r", "select": {"field": "customer.notes"}, "action": "drop", "params": {"x": 1}})
    with pytest.raises(ValidationError, match="unknown action 'shred'"):
        Rule.model_validate({"id": "r", "select": {"field": "customer.notes"}, "action": "shred"})
