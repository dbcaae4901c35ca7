"""Properties of plans for fields a mapping declares special (derived from a medical, criminal or legal column)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from officehub.policies import CompileContext, PolicySet, compile_plan
from tests.unit.test_policy_properties import FIELDS, KEYS, SPECIAL, TODAY, _based, policy_for, table_for

#: Fields of ordinary classes: the ones a mapping can fill from a special-category column.
ORDINARY = {e: [(p, leaf) for p, leaf in fields if leaf.sensitivity is not None and leaf.sensitivity not in SPECIAL]
            for e, fields in FIELDS.items()}
#: Actions that let nothing of a field out, not even whether it has a value.
SILENT = {"drop", "nullify"}


@st.composite
def derived_scenario(draw):  # type: ignore[no-untyped-def]
    entity = draw(st.sampled_from(sorted(FIELDS)))
    chosen = draw(st.lists(st.sampled_from(ORDINARY[entity]), min_size=1, max_size=6, unique_by=lambda f: f[0]))
    derived = {f"{entity}.{path}": draw(st.sampled_from(sorted(SPECIAL))) for path, _ in chosen}
    return entity, draw(table_for(entity)), draw(policy_for(entity)), derived


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(derived_scenario())
def test_a_derived_field_leaks_only_where_a_rule_releases_its_class_with_a_basis(case):
    entity, table, document, derived = case
    ctx = CompileContext(PolicySet((document,)), KEYS, TODAY, derived=derived)
    plan = compile_plan(entity, "d", ctx)
    out = plan.apply(table).columns
    received = [str(v) for col in out.values() for v in col.to_pylist() if v is not None]

    for path, leaf in FIELDS[entity]:
        declared = derived.get(f"{entity}.{path}")
        if declared is None:
            continue
        d = plan.decision(path)
        # Decided under the declared class, never under the (weaker) class of the model.
        assert d.sensitivity == declared, (path, d.sensitivity)
        if _based(document, entity, path, declared):
            continue
        # No rule gives a basis for this class here: nothing of the field goes out, not even whether
        # it has a value, and none of its values appears in any column the destination receives.
        assert d.action in SILENT, (path, d.action)
        assert leaf.column not in out or all(v is None for v in out[leaf.column].to_pylist()), path
        for value in table.column(leaf.column).to_pylist():
            if isinstance(value, str):
                assert not any(value in r for r in received), (path, d.action)


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(derived_scenario())
def test_a_released_derived_field_is_released_by_a_rule_with_a_basis(case):
    entity, _, document, derived = case
    plan = compile_plan(entity, "d", CompileContext(PolicySet((document,)), KEYS, TODAY, derived=derived))
    rules = {r.id: r for r in document.rules}

    for key in derived:
        d = plan.decision(key.split(".", 1)[1])
        if d.action not in SILENT:
            assert d.rule is not None and rules[d.rule].legal_basis, (key, d.action, d.rule)
