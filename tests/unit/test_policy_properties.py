"""Properties of compiled plans on generated records and generated policies: withheld values never leak."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from officehub.canonical_model import Sensitivity
from officehub.policies import CompileContext, KeyRing, PolicyDocument, PolicySet, compile_plan, entity_fields
from officehub.policies.compiler import decide
from officehub.policies.legal_bases import BUILT_IN

KEYS = KeyRing({"prop": b"p" * 32}, "prop")
TODAY = date(2026, 6, 1)
WITHHOLDING = {"drop", "nullify", "redact"}
REDACTED = "[REDACTED]"
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=3, max_size=12)
SPECIAL = {Sensitivity.MEDICAL, Sensitivity.CRIMINAL, Sensitivity.LEGAL}
# Every leaf, repeating groups' leaves too (their columns do not collide with the entity's own).
FIELDS = {e: entity_fields(e) for e in ("customer", "employee")}
COMMON_ACTIONS = ["allow", "drop", "nullify", "redact", "mask", "hash", "tokenize"]


def _kind(arrow_type: pa.DataType) -> str:
    for name, test in (("string", pa.types.is_string), ("date", pa.types.is_date), ("bool", pa.types.is_boolean),
                       ("decimal", pa.types.is_decimal)):
        if test(arrow_type):
            return name
    raise AssertionError(f"unexpected type {arrow_type}")


GENERALIZE = {"string": [{"to": "prefix", "prefix_length": 2}], "decimal": [{"to": "band", "band_size": 100}],
              "date": [{"to": "year", "top_age": 90}, {"to": "month"}, {"to": "age_band"}], "bool": []}


def _value(kind: str, marker: str):  # type: ignore[no-untyped-def]
    if kind == "string":
        return TEXT.map(lambda text: marker + text)  # the marker makes every value distinct
    if kind == "date":
        return st.dates(date(1920, 1, 1), date(2025, 12, 31))
    if kind == "decimal":
        return st.decimals(0, 99999, places=2, allow_nan=False, allow_infinity=False).map(lambda d: Decimal(d))
    return st.booleans()


@st.composite
def table_for(draw, entity: str) -> pa.Table:  # type: ignore[no-untyped-def]
    rows = draw(st.integers(1, 4))
    columns = {}
    for index, (_, leaf) in enumerate(FIELDS[entity]):
        kind = _kind(leaf.arrow_type)
        values = [draw(st.none() | _value(kind, f"⟪{entity[0]}{row}.{index}⟫")) for row in range(rows)]
        columns[leaf.column] = pa.array(values, leaf.arrow_type)
    return pa.table(columns)


@st.composite
def rule_for(draw, rid: str, select: dict, kind: str | None) -> dict:  # type: ignore[no-untyped-def]
    choices = [(a, {}) for a in COMMON_ACTIONS] + [("generalize", p) for p in GENERALIZE.get(kind or "", [])]
    action, params = draw(st.sampled_from(choices))
    r = {"id": rid, "select": select, "action": action, "params": params}
    if draw(st.booleans()):
        r["legal_basis"] = draw(st.sampled_from(["gdpr-9-2-b", "gdpr-9-2-h", "gdpr-10-official-authority"]))
    return r


@st.composite
def policy_for(draw, entity: str) -> PolicyDocument:  # type: ignore[no-untyped-def]
    rules = []
    for cls in draw(st.lists(st.sampled_from(list(Sensitivity)), unique=True)):
        rules.append(draw(rule_for(f"class-{cls.value}", {"class": cls.value}, None)))
    paths = draw(st.lists(st.sampled_from(FIELDS[entity]), unique_by=lambda f: f[0], max_size=12))
    for path, leaf in paths:
        rules.append(draw(rule_for(f"field-{path}", {"field": f"{entity}.{path}"}, _kind(leaf.arrow_type))))
    return PolicyDocument.model_validate({
        "name": "generated", "rules": rules,
        "agreements": [{"id": "a", "destination": "d", "purpose": "research", "legal_basis": "GDPR Art. 6(1)(f)",
                        "valid_from": "2026-01-01", "special_categories": [
                            {"class": "medical", "basis": "gdpr-9-2-b"}, {"class": "legal", "basis": "gdpr-9-2-b"},
                            {"class": "criminal", "basis": "gdpr-10-official-authority"}]}]})


@st.composite
def scenario(draw):  # type: ignore[no-untyped-def]
    entity = draw(st.sampled_from(sorted(FIELDS)))
    return entity, draw(table_for(entity)), draw(policy_for(entity))


def _based(document: PolicyDocument, entity: str, path: str, sensitivity: Sensitivity) -> bool:
    """Does any rule that selects this field name a legal basis?"""
    return any(r.legal_basis and r.select.matches(entity, path, sensitivity) for r in document.rules)


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario())
def test_withheld_values_never_reach_the_destination(case):
    entity, table, document = case
    ctx = CompileContext(PolicySet((document,)), KEYS, TODAY)
    plan = compile_plan(entity, "d", ctx)
    out = plan.apply(table).columns
    received = [str(v) for col in out.values() for v in col.to_pylist() if v is not None]

    for path, leaf in FIELDS[entity]:
        d = plan.decision(path)
        raw = table.column(leaf.column).to_pylist()
        got = out[leaf.column].to_pylist() if leaf.column in out else None
        special_unbased = leaf.sensitivity in SPECIAL and not _based(document, entity, path, leaf.sensitivity)
        if d.action in WITHHOLDING or special_unbased:
            # Absent or null; a redaction constant carries no value either.
            assert got is None or all(v is None or v == REDACTED for v in got), (path, d.action, got)
            # Special categories without a legal basis are dropped or emptied: not even their presence leaks.
            assert not special_unbased or (d.action in {"drop", "nullify"}
                                           and (got is None or all(v is None for v in got))), (path, d.action)
            for value in raw:
                if isinstance(value, str):
                    assert not any(value in r for r in received), (path, d.action)
        if d.action in {"hash", "tokenize"}:
            assert got is not None
            for value, result in zip(raw, got):
                assert (value is None) == (result is None)
                if value is not None:
                    assert str(value) not in result and result.startswith(("prop:", "tok:prop:"))
        if d.action == "allow":
            assert got == raw, path  # the plan really did run over these columns


@settings(max_examples=100, deadline=None, database=None)
@given(st.sampled_from(sorted(FIELDS)).flatmap(lambda e: st.tuples(st.just(e), st.sampled_from(FIELDS[e]),
                                                                 policy_for(e))))
def test_an_unclassified_field_is_always_dropped(case):
    entity, (path, leaf), document = case
    ctx = CompileContext(PolicySet((document,)), KEYS, TODAY)
    unclassified = dataclasses.replace(leaf, sensitivity=None)
    d = decide(entity, path, unclassified, document.rules, ctx)
    assert d.action == "drop" and d.sensitivity is None


# Broad rules, bases the agreement does not list, and rules from a file without the agreement:
# none of them may let a special-category value out, whatever else the policies say.
EMPLOYEE = FIELDS["employee"]
SPECIAL_PATHS = [path for path, leaf in EMPLOYEE if leaf.sensitivity in SPECIAL]
GROUPS = sorted({path.split(".")[0] for path in SPECIAL_PATHS if "." in path})
BROAD = [{"entity": "employee"}, {"field": "*"}, {"field": "employee.*"}, {"field": "*.sick_leave.*"},
         {"field": "employee.sick_*"}, {"field": "*.*"}, {"entity": "employee", "class": ["personal", "internal"]}]
EXPLICIT = ([{"field": f"employee.{p}"} for p in SPECIAL_PATHS] + [{"field": f"employee.{g}.*"} for g in GROUPS]
            + [{"class": c.value} for c in SPECIAL] + [{"entity": "employee", "class": ["medical", "legal"]}])
ORDINARY = [{"field": f"employee.{path}"} for path, leaf in EMPLOYEE if leaf.sensitivity not in SPECIAL]
PERMITS = sorted((c.value, b.id) for b in BUILT_IN for c in b.classes)
#: Register ids, and id-shaped text that is not in the register.
BASES = [b.id for b in BUILT_IN] + ["n-a", "contract", "gdpr-6-1-f"]
ACTIONS = ["allow", "mask", "hash", "tokenize", "redact", "drop", "nullify"]
DERIVABLE = [path for path, leaf in EMPLOYEE if leaf.sensitivity not in SPECIAL and _kind(leaf.arrow_type) == "string"]


def _agreement(dest: str, permits: list[tuple[str, str]]) -> dict:
    return {"id": f"{dest}-a", "destination": dest, "purpose": "research", "legal_basis": "GDPR Art. 6(1)(f)",
            "valid_from": "2026-01-01", "special_categories": [{"class": c, "basis": b} for c, b in permits]}


@st.composite
def _rule(draw, rid: str, selectors: list[dict], bases: list[str], **extra) -> dict:  # type: ignore[no-untyped-def]
    r = {"id": rid, "select": draw(st.sampled_from(selectors)), "action": draw(st.sampled_from(ACTIONS)), **extra}
    basis = draw(st.none() | st.sampled_from(bases)) if bases else None
    return {**r, "legal_basis": basis} if basis else r


@st.composite
def careless_estate(draw):  # type: ignore[no-untyped-def]
    """The destination's own document, a second one without its agreement, and classes mappings declare."""
    permits = draw(st.lists(st.sampled_from(PERMITS), max_size=8, unique=True))
    unlisted = [b for b in BASES if not any(b == listed for _, listed in permits)]
    rules = [draw(_rule(f"broad-{i}", BROAD, BASES)) for i in range(draw(st.integers(0, 4)))]
    rules += [draw(_rule(f"unlisted-{i}", EXPLICIT, unlisted)) for i in range(draw(st.integers(0, 4)))]
    rules += [draw(_rule(f"ordinary-{i}", ORDINARY, [])) for i in range(draw(st.integers(0, 4)))]
    home = PolicyDocument.model_validate({"name": "home", "rules": rules, "agreements": [_agreement("d", permits)]})
    listed = [b for _, b in permits] or ["gdpr-9-2-h"]
    stray_rules = [draw(_rule(f"stray-{i}", EXPLICIT + BROAD + ORDINARY, listed, when={"destinations": ["d"]}))
                   for i in range(draw(st.integers(1, 5)))]
    stray_agreements = draw(st.sampled_from([[], [_agreement("elsewhere", permits)]]))
    stray = PolicyDocument.model_validate({"name": "stray", "rules": stray_rules, "agreements": stray_agreements})
    derived = draw(st.dictionaries(st.sampled_from(DERIVABLE).map(lambda p: f"employee.{p}"),
                                   st.sampled_from(sorted(SPECIAL)), max_size=2))
    return home, stray, derived, draw(table_for("employee"))


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(careless_estate())
def test_careless_rules_never_release_a_special_category(case):
    home, stray, derived, table = case
    alone = compile_plan("employee", "d", CompileContext(PolicySet((home,)), KEYS, TODAY, derived))
    ctx = CompileContext(PolicySet((home, stray)), KEYS, TODAY, derived)
    plan = compile_plan("employee", "d", ctx)
    out = plan.apply(table).columns
    received = [str(v) for col in out.values() for v in col.to_pylist() if v is not None]
    for path, leaf in EMPLOYEE:
        d = plan.decision(path)
        if ctx.sensitivity("employee", path, leaf) in SPECIAL:
            assert d.action in {"drop", "nullify"}, (path, d.action, d.rule, d.reason)
            assert leaf.column not in out or out[leaf.column].null_count == len(out[leaf.column]), path
            for value in table.column(leaf.column).to_pylist():
                if isinstance(value, str):
                    assert not any(value in r for r in received), path
        else:
            # The second file may restrict what the destination receives, never widen it.
            assert d.operator.strictness >= alone.decision(path).operator.strictness, (path, d.rule)
