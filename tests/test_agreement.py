"""The engine's verdict and the explainer's clause-by-clause evaluation agree on products of every kind.

The products come from engine/ampc/analysis/products.py (shared with bench/agreement_bench.py): for every kind of
component the rules name, facts at, just inside and just outside every threshold the kind's rules
state (read from the rules' own parameters and literals, so a changed threshold moves the test with
it), every allowed value, facts left out, computed facts reached through their inputs, and as-of
dates around every date a rule or parameter value starts or ends. For each, the rules the engine
fired in each stage must be exactly the rules the explainer finds to hold, and the facts the engine
derived must be those the explainer derived. The compiled engine reads its thresholds and applies
the declared precedence itself, so this is a check of two independent evaluations.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import shutil
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ampc.analysis.products import Products, around, compare, comparisons, kinds, thresholds
from ampc.decide.decider import Decider
from ampc.rules.loader import load_ruleset
from ampc.rules.model import When
from caselib import copy_rule_set

ROOT = Path(__file__).resolve().parent.parent
NEGATION = Path(__file__).resolve().parent / "fixtures" / "negation" / "zz_negation.yaml"
RULESET = load_ruleset(ROOT)
AS_OF = When.on(dt.date(2025, 6, 30))


def budget(ruleset, kind: str) -> int:
    """Examples for a kind: more for a kind with more rules (the critical minerals have 84)."""
    return 450 + 20 * max(0, sum(r.applies_to(kind) for r in ruleset.rules) - 10)


TOTAL = sum(budget(RULESET, kind) for kind in kinds(RULESET))


def products(generator: Products, kind: str) -> st.SearchStrategy:
    """A hypothesis strategy over the generator's products of one kind and their as-of dates."""
    indexes: dict[int, st.SearchStrategy] = {}

    @st.composite
    def draw_product(draw):
        def pick(options):
            n = len(options)
            if n not in indexes:
                indexes[n] = st.integers(0, n - 1)
            return options[draw(indexes[n])]
        return generator.product(kind, pick), generator.when(pick)
    return draw_product()


def agree_on_random_products(decider: Decider, generator: Products, kind: str, examples: int) -> dict:
    """Run the property over `examples` products of the kind; return what each rule came to, and
    under the key None the number of products tried."""
    seen: dict[str | None, Counter] = defaultdict(Counter)

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(products(generator, kind))
    def check(product):
        facts, when = product
        problem, results = compare(decider, facts, when)
        assert problem is None, (problem, facts, when)
        seen[None]["products"] += 1
        for rid, result in results.items():
            seen[rid][result.result] += 1
    check()
    return seen


@pytest.fixture(scope="module")
def shared_decider():
    with Decider(RULESET) as d:
        yield d


@pytest.fixture(scope="module")
def generator():
    return Products(RULESET)


def test_every_kind_is_generated_and_the_budget_is_ten_thousand(generator):
    assert set(generator.kinds) == set(RULESET.facts["component"].values)
    assert TOTAL >= 10_000, TOTAL
    for kind in generator.kinds:
        plan = generator.plans[kind]
        assert plan.facts, kind
        assert all(not RULESET.facts[f].derived and not RULESET.facts[f].computed for f in plan.facts)


@pytest.mark.parametrize("kind", kinds(RULESET))
def test_engine_and_explainer_agree_on_random_products(kind, shared_decider, generator):
    seen = agree_on_random_products(shared_decider, generator, kind, budget(RULESET, kind))
    assert seen[None]["products"] >= budget(RULESET, kind)  # every example ran
    rules = [r.id for r in RULESET.rules if r.applies_to(kind)]
    held = [rid for rid in rules if seen[rid][True]]
    failed = [rid for rid in rules if seen[rid][False]]
    # not vacuous: the products reach the rules, on both sides (hypothesis spreads its draws less
    # evenly than bench/agreement_bench.py, which reaches nearly all of them)
    assert len(held) >= 0.5 * len(rules), sorted(set(rules) - set(held))
    assert len(failed) >= 0.5 * len(rules), sorted(set(rules) - set(failed))
    assert any(seen[rid][True] for rid in rules if RULESET.rule(rid).stage == "classify"), kind


def test_boundaries_include_every_inverter_threshold(generator):
    capacities = generator.plans["inverter"].general["ac_capacity"].values
    for watts in ("650", "20000", "125000", "150000", "1000000"):
        for delta in ("0", "0.001", "-0.001", "1E-18", "-1E-18"):
            assert Decimal(watts) + Decimal(delta) in capacities
    voltages = generator.plans["inverter"].general["rated_output_voltage"].values
    for volts in ("120", "208", "240", "480", "600", "800"):
        assert Decimal(volts) in voltages


def test_a_changed_threshold_moves_the_products():
    param = RULESET.params["inverter.utility.min_capacity"]
    moved = dataclasses.replace(param, values=(dataclasses.replace(param.values[0], value=Decimal("130000")),))
    changed = dataclasses.replace(RULESET, params={**RULESET.params, param.id: moved})
    before = Products(RULESET).plans["inverter"].general["ac_capacity"].values
    after = Products(changed).plans["inverter"].general["ac_capacity"].values
    assert Decimal("130000") not in before and Decimal("129999.999999999999999999") not in before
    assert Decimal("130000") in after and Decimal("129999.999999999999999999") in after


def test_computed_facts_are_given_through_their_inputs_and_reach_their_thresholds(generator):
    import random
    rng = random.Random(3)
    exact = Counter()
    points = {p for rule in RULESET.rules for c in comparisons(rule.when) if c.fact == "material_assistance_cost_ratio"
              for p in thresholds(RULESET, c)}
    for _ in range(2000):
        facts = generator.product("inverter", lambda options: options[rng.randrange(len(options))])
        ratio = facts.get("material_assistance_cost_ratio")
        if ratio is not None:
            exact[ratio in points] += 1
            assert "pfe_direct_material_costs" in facts and "total_direct_material_costs" in facts
    assert exact[True] > 50 and exact[False] > 50, exact


def test_every_quantity_drawn_is_one_a_catalog_can_give(generator):
    """Within its fact's declared range and a whole multiple of its declared precision, given or solved
    for a computed fact (the reader refuses any other value: those are the benchmark's bad rows)."""
    import random
    rng = random.Random(5)
    drawn = Counter()
    for _ in range(300):
        for kind in generator.kinds:
            facts = generator.product(kind, lambda options: options[rng.randrange(len(options))])
            for name, value in facts.items():
                fact = RULESET.facts[name]
                if fact.type != "quantity" or value is None or fact.computed:
                    continue
                drawn[name] += 1
                assert fact.minimum is None or value >= fact.minimum, (name, value)
                assert fact.maximum is None or value <= fact.maximum, (name, value)
                assert fact.precision is None or value % fact.precision == 0, (name, value)
    assert drawn["battery_cell_count"] and drawn["binding_contract_pfe_direct_material_costs"], drawn


def test_as_of_dates_fall_around_every_change_in_force(generator):
    sale = generator.dates["sale"]
    for day in (dt.date(2023, 1, 1), dt.date(2026, 1, 1), dt.date(2030, 1, 1)):
        assert day in sale and day - dt.timedelta(days=1) in sale
    taxable = generator.dates["taxable_year"]
    assert dt.date(2025, 7, 4) in taxable and dt.date(2025, 7, 5) in taxable  # the 2025 act's split
    assert generator.dates["production"]


@pytest.fixture(scope="module")
def negation_ruleset(tmp_path_factory):
    """The bundled rule set with rules that negate every kind of condition (no bundled rule does)."""
    tree = copy_rule_set(tmp_path_factory.mktemp("negation"))
    shutil.copy(NEGATION, tree / "rules" / NEGATION.name)
    return load_ruleset(tree)


def test_engine_and_explainer_agree_on_negated_conditions(negation_ruleset):
    fixture = [r.id for r in negation_ruleset.rules if r.id.startswith("fixture.")]
    assert len(fixture) == 8
    with Decider(negation_ruleset) as decider:
        seen = agree_on_random_products(decider, Products(negation_ruleset), "inverter", 1500)
    for rid in fixture:  # each negated rule held, failed and stayed undetermined on some product
        assert seen[rid][True] and seen[rid][False] and seen[rid][None], (rid, seen[rid])


def test_a_negated_condition_on_an_unstated_threshold_never_fires(negation_ruleset):
    micro = {"is_end_product": True, "converts_dc_to_ac": True, "dc_source": frozenset({"solar_module"}),
             "suitable_for": frozenset({"residence"}), "phase": "single", "rated_output_voltage": Decimal(240),
             "ac_capacity": Decimal(650), "connects_to_one_module": True}  # a microinverter: qualify is reached
    facts = {"component": "inverter", "total_direct_material_costs": Decimal(100), **micro,
             "pfe_direct_material_costs": Decimal(50), "material_assistance_cost_ratio": Decimal(50)}
    with Decider(negation_ruleset) as decider:
        for day, fired in ((dt.date(2027, 6, 30), True), (dt.date(2028, 6, 30), False)):
            when = When.on(day)
            engine = decider.engine(facts, when)
            assert ("fixture.not.unstated" in engine.fired["qualify"]) is fired
            results, _ = decider.explain(facts, when)
            assert results["fixture.not.unstated"].result is (True if fired else None)


def test_engine_and_explainer_agree_on_the_full_boundary_grid(shared_decider):
    """Every capacity boundary x every voltage boundary x phase, fully specified otherwise."""
    base = {"component": "inverter", "is_end_product": True, "converts_dc_to_ac": True,
            "dc_source": frozenset({"solar_module"}),
            "suitable_for": frozenset({"residence", "commercial", "utility_scale", "large_utility_scale"}),
            "connects_to_one_module": True, "used_with_certified_distributed_wind": True}
    rules = [r for r in RULESET.rules if r.applies_to("inverter")]
    grid = {fact: around([p for r in rules for c in comparisons(r.when) if c.fact == fact
                          for p in thresholds(RULESET, c)])
            for fact in ("ac_capacity", "rated_output_voltage")}
    count = 0
    for capacity in grid["ac_capacity"]:
        for voltage in grid["rated_output_voltage"]:
            for phase in ("single", "three"):
                facts = dict(base, ac_capacity=capacity, rated_output_voltage=voltage, phase=phase)
                problem, _ = compare(shared_decider, facts, AS_OF)
                assert problem is None, (problem, facts)
                count += 1
    assert count > 1000


def test_a_record_is_the_same_whatever_was_decided_before_it():
    """What the engine, the explainer and the record keep for reuse (by cell, by era, by value) never
    changes a record: products of every kind, at and around every threshold and date, decided in
    one order and in the reverse order with reuse, and each afresh without it, give the same records."""
    from ampc.records import record as R

    rng, generator = random.Random(45), Products(RULESET)
    drawn = [(generator.product(kind, rng.choice), generator.when(rng.choice))
             for kind in kinds(RULESET) for _ in range(400)]
    with Decider(RULESET) as forward, Decider(RULESET) as backward, Decider(RULESET, reuse=False) as fresh:
        def record(decider, n):
            facts, when = drawn[n]
            return R.encode(decider.decide(f"P{n}", facts, when))
        ahead = [record(forward, n) for n in range(len(drawn))]
        behind = [record(backward, n) for n in reversed(range(len(drawn)))][::-1]
        assert ahead == behind
        assert ahead == [record(fresh, n) for n in range(len(drawn))]
