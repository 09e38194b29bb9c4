"""The engine's verdict and the explainer's clause-by-clause evaluation agree on every inverter.

Random inverters with values at, just inside and just outside every boundary the inverter rules
state (taken from the rules' own parameters, so a changed threshold moves the test with it), with
facts randomly left out. For each, the rules the engine fired in each stage must be exactly the rules
the explainer finds to hold, and the facts the engine derived must be those the explainer derived.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.units import compatible, convert

AS_OF = dt.date(2025, 6, 30)
DELTAS = [Decimal(0), Decimal(1), Decimal(-1), Decimal("0.001"), Decimal("-0.001"),
          Decimal("1E-15"), Decimal("-1E-15")]


def boundary_values(ruleset, fact: str) -> list[Decimal]:
    """Every threshold the rules compare `fact` with, in the fact's unit, and its neighbours."""
    unit = ruleset.facts[fact].unit
    points: set[Decimal] = set()
    for param in ruleset.params.values():
        if not param.id.startswith("inverter.") or not compatible(param.unit, unit):
            continue
        for entry in param.values:
            values = entry.value if isinstance(entry.value, tuple) else (entry.value,)
            points.update(convert(value, param.unit, unit) for value in values)
    return sorted({p + d for p in points for d in DELTAS if p + d > 0})


def inverter(ruleset):
    capacity = st.sampled_from(boundary_values(ruleset, "ac_capacity"))
    voltage = st.sampled_from(boundary_values(ruleset, "rated_output_voltage"))
    maybe = lambda strategy: st.one_of(st.none(), strategy)  # noqa: E731
    return st.fixed_dictionaries({
        "component": st.just("inverter"),
        "is_end_product": maybe(st.booleans()),
        "converts_dc_to_ac": maybe(st.booleans()),
        "dc_source": maybe(st.frozensets(st.sampled_from(ruleset.facts["dc_source"].values), max_size=3)),
        "suitable_for": maybe(st.frozensets(st.sampled_from(ruleset.facts["suitable_for"].values), max_size=4)),
        "phase": maybe(st.sampled_from(ruleset.facts["phase"].values)),
        "rated_output_voltage": maybe(voltage),
        "ac_capacity": maybe(capacity),
        "connects_to_one_module": maybe(st.booleans()),
        "used_with_certified_distributed_wind": maybe(st.booleans()),
    })


def assert_agree(decider, facts):
    engine = decider.session(AS_OF).decide(facts)
    results, derived = decider.explain(facts, AS_OF)
    for stage, fired in engine.fired.items():
        held = sorted(rid for rid, r in results.items() if r.rule.stage == stage and r.result is True)
        assert sorted(fired) == held, (stage, facts)
    assert {k: v for k, v in engine.derived.items() if v is not False} == \
        {k: v for k, v in derived.items() if v is not False}, facts


def test_boundaries_include_every_inverter_threshold(ruleset):
    capacities = boundary_values(ruleset, "ac_capacity")
    for watts in ("650", "20000", "125000", "150000", "1000000"):
        assert Decimal(watts) in capacities
        assert Decimal(watts) + Decimal("0.001") in capacities
        assert Decimal(watts) - Decimal("0.001") in capacities
    voltages = boundary_values(ruleset, "rated_output_voltage")
    for volts in ("120", "208", "240", "480", "600", "800"):
        assert Decimal(volts) in voltages


@pytest.fixture(scope="module")
def shared_decider(ruleset):
    from engine.decide import Decider
    with Decider(ruleset) as d:
        yield d


def test_engine_and_explainer_agree_on_random_inverters(ruleset, shared_decider):
    @settings(max_examples=3000, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(inverter(ruleset))
    def check(facts):
        assert_agree(shared_decider, facts)
    check()


def test_engine_and_explainer_agree_on_the_full_boundary_grid(ruleset, shared_decider):
    """Every capacity boundary x every voltage boundary x phase, fully specified otherwise."""
    base = {"component": "inverter", "is_end_product": True, "converts_dc_to_ac": True,
            "dc_source": frozenset({"solar_module"}),
            "suitable_for": frozenset({"residence", "commercial", "utility_scale", "large_utility_scale"}),
            "connects_to_one_module": True, "used_with_certified_distributed_wind": True}
    count = 0
    for capacity in boundary_values(ruleset, "ac_capacity"):
        for voltage in boundary_values(ruleset, "rated_output_voltage"):
            for phase in ("single", "three"):
                assert_agree(shared_decider, dict(base, ac_capacity=capacity,
                                                  rated_output_voltage=voltage, phase=phase))
                count += 1
    assert count > 1000
