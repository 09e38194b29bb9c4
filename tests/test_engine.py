"""The durable-rules adapter: isolation between products and runs, errors surfaced, exact numbers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from ampc.decide.compile import Session, encode
from ampc.decide.decider import Decider
from ampc.errors import EngineError
from ampc.records import record as R

AS_OF = dt.date(2025, 6, 30)
MICRO = {"component": "inverter", "is_end_product": True, "converts_dc_to_ac": True,
         "dc_source": frozenset({"solar_module"}), "suitable_for": frozenset({"residence"}),
         "phase": "single", "rated_output_voltage": Decimal(240), "ac_capacity": Decimal(650),
         "connects_to_one_module": True, "used_with_certified_distributed_wind": False}


def classified(decider, facts):
    return decider.engine(facts, AS_OF).fired["classify"]


def test_no_state_leaks_between_products(ruleset):
    decider = Decider(ruleset, reuse=False)  # the engine runs every product: nothing is served from a cell
    first = classified(decider, MICRO)
    bigger = dict(MICRO, ac_capacity=Decimal(5000))
    assert "inverter.micro" not in classified(decider, bigger)
    assert classified(decider, MICRO) == first
    # a product with fewer facts is not completed by an earlier product's facts
    partial = {k: v for k, v in MICRO.items() if k != "connects_to_one_module"}
    assert "inverter.micro" not in classified(decider, partial)


def test_products_sharing_an_engine_state_are_decided_as_each_alone(ruleset, monkeypatch):
    """Products run in one engine state, SHARED at a time: each is concluded exactly as in a state of
    its own, across states and after a run that failed in the engine, for products of every kind
    at and around every threshold and date, the same facts asserted again among them."""
    import random

    from ampc.analysis.products import Products, kinds
    from ampc.decide import compile
    rng, generator = random.Random(14), Products(ruleset)
    drawn = [(generator.product(kind, rng.choice), generator.when(rng.choice))
             for kind in kinds(ruleset) for _ in range(40)]
    drawn += drawn[::3]

    def concluded(shared: int, fail_at: int | None = None) -> tuple[list, dict]:
        monkeypatch.setattr(compile, "SHARED", shared)
        out, made = [], {}
        with Decider(ruleset, reuse=False) as d:
            for n, (facts, when) in enumerate(drawn):
                session = d.session(facts.get("component"))
                if n == fail_at:
                    with monkeypatch.context() as m:
                        m.setattr(ruleset, "stage_kind", lambda stage: 1 / 0)
                        with pytest.raises(EngineError, match="ZeroDivisionError"):
                            session.decide(facts, when)
                result = session.decide(facts, when)
                out.append((result.fired, result.derived, result.stages_run))
            made = {kind: next(s._sids) for kind, s in d._sessions.items()}  # engine states made, by kind
        return out, made
    alone, one_each = concluded(1)
    shared, fewer = concluded(8)
    assert shared == alone
    assert all(fewer[k] < one_each[k] / 4 for k in one_each), (fewer, one_each)  # the states were shared
    assert concluded(8, fail_at=len(drawn) // 2)[0] == alone


def test_no_state_leaks_between_runs(ruleset):
    with Decider(ruleset) as one:
        a = R.encode(one.decide("X", MICRO, AS_OF))
    with Decider(ruleset) as two:
        two.decide("Y", dict(MICRO, ac_capacity=Decimal(7000)), AS_OF)
        b = R.encode(two.decide("X", MICRO, AS_OF))
    assert a == b


def test_same_inputs_give_the_same_record_byte_for_byte(ruleset):
    def record() -> bytes:
        with Decider(ruleset) as d:
            return R.encode(d.decide("X", MICRO, AS_OF))
    assert record() == record()
    data = json.loads(record())
    assert data["ruleset"]["sha256"] == ruleset.sha256 and data["dates"]["sale"] == "2025-06-30"
    assert R.encode(R.decode(record())) == record()  # read back, it is the same record


def test_an_error_inside_a_rule_action_surfaces(ruleset, monkeypatch):
    """durable-rules swallows exceptions raised in actions; the adapter must not."""
    with Session(ruleset, "inverter") as session:
        def failing(stage):
            raise RuntimeError("boom in an action")
        # the actions look up the stage kind when a rule fires: make that fail inside the engine
        monkeypatch.setattr(ruleset, "stage_kind", failing)
        with pytest.raises(EngineError, match="a rule action failed inside the engine: RuntimeError: boom"):
            session.decide(MICRO, AS_OF)
        monkeypatch.undo()
        # the session is still usable and decides correctly afterwards
        assert "inverter.micro" in session.decide(MICRO, AS_OF).fired["classify"]


def test_decider_reports_an_engine_failure_as_an_error_row(ruleset, monkeypatch, tmp_path):
    from ampc.decide.pipeline import decide_rows
    from ampc.io.catalog import read_catalog
    catalog = tmp_path / "c.yaml"
    catalog.write_text("- {product: A, component: inverter, is_end_product: true}\n"
                       "- {product: B, component: inverter, is_end_product: false}\n")
    rows = read_catalog(catalog, ruleset)
    calls = {"n": 0}
    real = ruleset.stage_kind

    def fail_once(stage):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(stage)
    with Decider(ruleset) as d:
        d.session("inverter")  # compiled first: the failure is one inside the engine's run
        monkeypatch.setattr(ruleset, "stage_kind", fail_once)
        out = list(decide_rows(rows, d, AS_OF))
    assert [o.outcome for o in out] == ["error", "rejected"]
    assert isinstance(out[0], R.ErrorRecord) and "boom" in out[0].error.message


def test_types_are_checked_before_facts_reach_the_engine(ruleset):
    with pytest.raises(EngineError, match="true or false"):
        encode({"is_end_product": 1}, ruleset.facts)
    with pytest.raises(EngineError, match="exact decimal"):
        encode({"ac_capacity": 650.0}, ruleset.facts)
    with pytest.raises(EngineError, match="text"):
        encode({"phase": 3}, ruleset.facts)
    with pytest.raises(EngineError, match=r"must be text before it reaches the engine, got \['single'\]$"):
        encode({"phase": frozenset({"single"})}, ruleset.facts)  # as a person writes it, not a Python repr


def test_boundaries_are_exact_beyond_double_precision(decider):
    # 650.000000000000001 W is more than 650 W; as a double it would equal 650
    over = dict(MICRO, ac_capacity=Decimal("650.000000000000001"))
    assert "inverter.micro" not in classified(decider, over)
    assert "inverter.micro" in classified(decider, dict(MICRO, ac_capacity=Decimal("650.000000000000000")))


def test_more_than_18_decimal_places_is_refused_not_rounded(decider):
    with pytest.raises(EngineError, match="18 decimal places"):
        classified(decider, dict(MICRO, ac_capacity=Decimal("650.0000000000000000001")))


def test_a_decision_reused_for_the_same_facts_is_the_one_made_afresh(ruleset):
    with Decider(ruleset) as warm:
        warm.decide("FIRST", MICRO, AS_OF, "first")
        reused = warm.decide("SECOND", MICRO, AS_OF, "second", sale_from="row")
    with Decider(ruleset) as fresh:
        made = fresh.decide("SECOND", MICRO, AS_OF, "second", sale_from="row")
    assert R.encode(reused) == R.encode(made)
    assert reused.product == "SECOND" and reused.dates.sale_from == "row"


def _engine_runs(session, monkeypatch) -> list:
    """Count the facts asserted to the session's engine (one a stage run)."""
    asserted: list = []
    real = session._post

    def counting(fact):
        asserted.append(fact["_stage"])
        return real(fact)
    monkeypatch.setattr(session, "_post", counting)
    return asserted


def test_products_in_one_cell_are_run_through_the_engine_once(ruleset, monkeypatch):
    """Two microinverters of 300 W and 500 W fall on the same side of every threshold the engine
    compares ac_capacity with: the engine runs the first, and its conclusions serve the second."""
    with Session(ruleset, "inverter") as session:
        runs = _engine_runs(session, monkeypatch)
        small = session.decide(dict(MICRO, ac_capacity=Decimal(300)), AS_OF)
        assert len(runs) == 3  # identify, classify, qualify
        assert session.decide(dict(MICRO, ac_capacity=Decimal(500)), AS_OF) is small
        assert len(runs) == 3
        session.decide(dict(MICRO, ac_capacity=Decimal(500)), dt.date(2033, 6, 30))  # another period of the law
        assert len(runs) == 6


def test_a_threshold_is_a_cell_of_its_own(ruleset, monkeypatch):
    """At, just inside and just outside the micro inverter's 650 W: three cells, each run by the
    engine and each decided on its own side."""
    with Session(ruleset, "inverter") as session:
        runs = _engine_runs(session, monkeypatch)
        for watts, micro in (("650", True), ("649.999999999999999999", True), ("650.000000000000000001", False),
                             ("650", True), ("649.999999999999999999", True), ("650.000000000000000001", False)):
            fired = session.decide(dict(MICRO, ac_capacity=Decimal(watts)), AS_OF).fired["classify"]
            assert ("inverter.micro" in fired) is micro, watts
        # the capacity is read by the classes only: identify runs once; of the two products the
        # classes decide micro, the second qualifies from its cell; the second three are served whole
        assert runs == ["v:identify", "v:classify", "v:qualify", "v:classify", "v:classify", "v:qualify"]
        gone = session.decide({k: v for k, v in MICRO.items() if k != "ac_capacity"}, AS_OF)
        assert "inverter.micro" not in gone.fired["classify"]  # a fact not given is a cell of its own
        assert runs[6:] == ["v:classify"]  # its identity from its cell; no class holds


def test_a_stage_is_served_from_its_cell_only_when_every_fact_it_reads_is_in_that_cell(ruleset, monkeypatch):
    """A product that differs only in a fact the qualifying rules read runs the qualify stage again,
    and is decided as if made afresh."""
    with Session(ruleset, "inverter") as session, Session(ruleset, "inverter", reuse=False) as fresh:
        runs = _engine_runs(session, monkeypatch)
        home = session.decide(dict(MICRO, produced_in="united_states"), AS_OF)
        abroad = dict(MICRO, produced_in="canada")
        served = session.decide(abroad, AS_OF)
        assert runs == ["v:identify", "v:classify", "v:qualify", "v:qualify"]
        assert served == fresh.decide(abroad, AS_OF)
        assert "qualify.produced_in_united_states" in home.fired["qualify"]
        assert "qualify.produced_in_united_states" not in served.fired["qualify"]


def test_a_record_decided_from_a_cell_is_the_one_made_afresh(ruleset):
    products = [dict(MICRO, ac_capacity=Decimal(w), rated_output_voltage=Decimal(v))
                for w in (300, 420, 650, 5000, 5001) for v in (120, 240)]
    with Decider(ruleset) as reusing, Decider(ruleset, reuse=False) as fresh:
        for n, facts in enumerate(products):
            assert R.encode(reusing.decide(f"P{n}", facts, AS_OF)) == R.encode(fresh.decide(f"P{n}", facts, AS_OF))


def test_the_engine_stops_at_the_stage_that_settles_the_product(ruleset):
    """A product the rules do not identify as an inverter is not classified or qualified: neither
    the engine nor the explainer goes on, and the later stages' rules are not reached."""
    with Session(ruleset, "inverter") as session:
        assert session.decide(MICRO, AS_OF).stages_run == ("identify", "classify", "qualify")
        assert session.decide(dict(MICRO, converts_dc_to_ac=False), AS_OF).stages_run == ("identify",)
        big = dict(MICRO, ac_capacity=Decimal(1_000_000), rated_output_voltage=Decimal(480), phase="three",
                   suitable_for=frozenset({"commercial"}))  # the 3b/3c gap: no class holds
        assert session.decide(big, AS_OF).stages_run == ("identify", "classify")
    with Decider(ruleset) as decider:
        record = decider.decide("X", dict(MICRO, converts_dc_to_ac=False), AS_OF)
    assert record.outcome == "rejected" and record.reason.kind == "not_identified"
    later = [c for c in record.considered if c.stage != "identify"]
    assert later and all(c.result == "not_reached" and not c.clauses for c in later)
