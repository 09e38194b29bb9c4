"""What would qualify (ampc.analysis.qualify): the smallest change per candidate line, at the
boundary, every suggestion decided again by the real engine."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.analysis import qualify
from ampc.cli import main
from ampc.decide.pipeline import decide_mappings
from ampc.records import record as R

ROOT = Path(__file__).resolve().parent.parent
INVERTER = dict(component="inverter", is_end_product=True, converts_dc_to_ac=True, dc_source=["solar_module"],
                connects_to_one_module=False, used_with_certified_distributed_wind=False,
                produced_in="United States", sold_in_trade_or_business=True, sold_to_related_person=False,
                related_person_election=False, integrated_into_component_sold_to_unrelated=False,
                facility_48c_credit_taken=False, production_date=dt.date(2025, 3, 1),
                sale_date=dt.date(2025, 4, 1))
COMMERCIAL = dict(INVERTER, suitable_for=["commercial"], phase="three")
# tests/cases/special_rules/termination.yaml: a blade that passes every rule but the termination
BLADE = dict(component="blade", airfoil_shaped_blade=True, converts_wind_to_rotation=True,
             produced_in="United States", sold_in_trade_or_business=True, sold_to_related_person=False,
             related_person_election=False, integrated_into_component_sold_to_unrelated=False,
             facility_48c_credit_taken=False, production_date=dt.date(2027, 12, 1),
             taxpayer_is_specified_foreign_entity=False, specified_foreign_entity_can_appoint_covered_officer=False,
             largest_specified_foreign_entity_ownership="0 %", specified_foreign_entities_ownership="0 %",
             specified_foreign_entities_debt_share="0 %", effective_control_payment_to_specified_foreign_entity=False,
             total_direct_material_costs="1000 USD", pfe_direct_material_costs="50 USD",
             binding_contract_direct_material_costs="0 USD", binding_contract_pfe_direct_material_costs="0 USD")


def decided(decider, **facts):
    item = {"product": "P", **facts}
    as_of = facts.get("sale_date")
    return decide_mappings([item], "test", decider, as_of)[0]


def wwq(decider, **facts) -> tuple[R.Decision, qualify.WhatWouldQualify]:
    record = decided(decider, **facts)
    return record, qualify.what_would_qualify(record, decider)


def on(result: qualify.WhatWouldQualify, line: str) -> qualify.Candidate:
    return next(c for c in result.candidates if c.line == line)


def change(candidate: qualify.Candidate, fact: str) -> qualify.Change:
    return next(c for c in candidate.changes if c.fact == fact)


def q(value: str, unit: str) -> R.Quantity:
    return R.quantity(Decimal(value), unit)


def applied(facts: dict, candidate: qualify.Candidate) -> dict:
    """The product's facts with the candidate's changes, written as a catalog writes them."""
    out = dict(facts)
    for ch in candidate.changes:
        to = ch.to
        if isinstance(to, R.Quantity):
            out[ch.fact] = f"{to.value} {to.unit}"
        elif isinstance(to, R.Members):
            out[ch.fact] = list(to.values)
        else:
            out[ch.fact] = qualify.native(to)
    return out


# --- numeric clauses: the nearest qualifying value and the distance --------------------------------

def test_130_kw_at_480_v_reaches_3c_by_capacity_and_3b_by_voltage(decider):
    record, result = wwq(decider, **COMMERCIAL, rated_output_voltage="480 V", ac_capacity="130 kW")
    assert record.outcome == "rejected"
    c3 = on(result, "3c")
    assert [ch.fact for ch in c3.changes] == ["ac_capacity"]
    ch = change(c3, "ac_capacity")
    assert (ch.op, ch.from_, ch.to, ch.distance) == ("at_most", q("130000", "W"), q("125000", "W"), q("5000", "W"))
    assert (ch.rule, ch.path, ch.threshold) == ("inverter.commercial", "all[6]", q("125000", "W"))
    assert c3.reachable and c3.verified and (c3.after, c3.after_line) == ("qualified", "3c")
    b3 = on(result, "3b")
    ch = change(b3, "rated_output_voltage")
    assert [c.fact for c in b3.changes] == ["rated_output_voltage"]
    assert (ch.op, ch.to, ch.distance) == ("at_least", q("600", "V"), q("120", "V"))
    assert b3.verified


def test_at_least_floor_gives_the_threshold_itself(decider):
    _, result = wwq(decider, **COMMERCIAL, rated_output_voltage="480 V", ac_capacity="19.999 kW")
    ch = change(on(result, "3c"), "ac_capacity")
    assert (ch.op, ch.to, ch.distance) == ("at_least", q("20000", "W"), q("1", "W"))
    assert on(result, "3c").verified
    assert result.candidates[0].line == "3c"  # one fact, the nearest line


def test_more_than_gives_threshold_plus_one_step(decider):
    # 650 V is no commercial voltage and 100 kW is not more than 125 kW: neither 3b nor 3c
    record, result = wwq(decider, **COMMERCIAL, rated_output_voltage="650 V", ac_capacity="100 kW")
    assert record.outcome == "rejected"
    ch = change(on(result, "3b"), "ac_capacity")
    assert ch.op == "more_than"
    assert ch.to == q("125000.000000000000000001", "W")
    assert ch.distance == q("25000.000000000000000001", "W")
    assert on(result, "3b").verified
    # 3c: the allowed voltage nearest 650 V (600 V, not 800 V)
    ch = change(on(result, "3c"), "rated_output_voltage")
    assert (ch.op, ch.to, ch.distance) == ("one_of", q("600", "V"), q("50", "V"))


def test_constraints_on_one_fact_intersect(decider):
    # 3b needs more than 125 kW and at most 1,000 kW: from 2 MW the nearest is the ceiling
    _, result = wwq(decider, **dict(COMMERCIAL, suitable_for=["utility_scale"]), rated_output_voltage="800 V",
                    ac_capacity="2 MW")
    ch = change(on(result, "3b"), "ac_capacity")
    assert (ch.op, ch.to, ch.distance) == ("at_most", q("1000000", "W"), q("1000000", "W"))
    assert on(result, "3b").verified


# --- enums, sets, missing facts ----------------------------------------------------------------------

def test_residential_inverter_with_three_phase_needs_phase_single(decider):
    record, result = wwq(decider, **dict(INVERTER, suitable_for=["residence"], phase="three"),
                         rated_output_voltage="240 V", ac_capacity="10 kW")
    assert record.outcome == "rejected"
    d3 = on(result, "3d")
    assert [(c.fact, c.op, c.from_, c.to, c.distance) for c in d3.changes] == [
        ("phase", "is", R.Text("three"), R.Text("single"), None)]
    assert d3.verified and result.candidates[0] is d3


def test_set_fact_gains_the_member_needed(decider):
    _, result = wwq(decider, **dict(COMMERCIAL, suitable_for=["residence"]), rated_output_voltage="480 V",
                    ac_capacity="100 kW")
    ch = change(on(result, "3c"), "suitable_for")
    assert ch.from_ == R.Members(("residence",))
    assert ch.to == R.Members(("commercial", "residence"))
    assert on(result, "3c").verified


def test_a_fact_not_given_is_given_the_value_needed(decider):
    record, result = wwq(decider, **COMMERCIAL, ac_capacity="50 kW")  # rated_output_voltage not given
    assert record.outcome == "undetermined"
    ch = change(on(result, "3c"), "rated_output_voltage")
    assert ch.from_ == R.NotGiven() and ch.distance is None and ch.to == q("208", "V")
    assert on(result, "3c").verified


# --- ranking -----------------------------------------------------------------------------------------

def test_a_line_needing_two_facts_ranks_below_one_needing_one(decider):
    _, result = wwq(decider, **COMMERCIAL, rated_output_voltage="480 V", ac_capacity="130 kW")
    counts = [len(c.changes) for c in result.candidates]
    assert counts == sorted(counts)
    central = on(result, "3a")  # large utility-scale and more than 1,000 kW
    assert {c.fact for c in central.changes} == {"suitable_for", "ac_capacity"}
    assert result.candidates.index(central) > result.candidates.index(on(result, "3c"))
    # among lines needing one fact, the form's order: 3b before 3c
    assert [c.line for c in result.candidates if len(c.changes) == 1][:2] == ["3b", "3c"]


def test_every_suggestion_decided_again_qualifies_on_its_line(decider):
    facts = dict(COMMERCIAL, rated_output_voltage="480 V", ac_capacity="130 kW")
    _, result = wwq(decider, **facts)
    reachable = [c for c in result.candidates if c.reachable]
    assert len(reachable) == 6
    for candidate in reachable:
        again = decided(decider, **applied(facts, candidate))
        assert (again.outcome, again.line) == ("qualified", candidate.line), candidate.line
        assert candidate.verified


def test_a_computed_fact_is_named_and_given_instead_of_its_inputs(decider):
    facts = dict(COMMERCIAL, rated_output_voltage="480 V", ac_capacity="100 kW", **{
        k: v for k, v in BLADE.items() if k.startswith(("taxpayer", "specified", "largest", "effective",
                                                         "binding", "total", "pfe"))})
    facts.update(sale_date=dt.date(2027, 3, 1), production_date=dt.date(2027, 2, 1),
                 pfe_direct_material_costs="451 USD")  # 54.9 %: below the 55 % inverter threshold of 2027
    record, result = wwq(decider, **facts)
    assert record.outcome == "rejected"
    c3 = on(result, "3c")
    ch = change(c3, "material_assistance_cost_ratio")
    assert ch.to == q("55", "percent") and ch.distance == q("0.1", "percent")
    assert set(ch.computed_from) == {"total_direct_material_costs", "pfe_direct_material_costs"}
    assert c3.verified


# --- unreachable: the dates the law is read at are not the product's to change ----------------------

def test_a_blade_sold_in_2028_is_unreachable_by_the_termination(decider):
    record, result = wwq(decider, **BLADE, sale_date=dt.date(2028, 3, 1))
    assert record.outcome == "rejected"
    (blade,) = result.candidates
    assert blade.line == "2b" and not blade.reachable and not blade.verified
    blockers = {(b.rule, b.fact, b.op, b.why, b.role) for b in blade.blocked_by}
    assert ("termination.wind.sold_after_2027", "sale_date", "at_most", "fixed", "sale_date") in blockers
    (b,) = [b for b in blade.blocked_by if b.fact == "sale_date"]
    assert b.threshold == R.Day(dt.date(2027, 12, 31)) and b.actual == R.Day(dt.date(2028, 3, 1))


def test_a_blade_produced_and_sold_in_2028_is_blocked_by_termination_wind(decider):
    _, result = wwq(decider, **dict(BLADE, production_date=dt.date(2028, 1, 15)), sale_date=dt.date(2028, 3, 1))
    (blade,) = result.candidates
    assert not blade.reachable
    assert "termination.wind" in {b.rule for b in blade.blocked_by}
    assert all(b.why == "fixed" for b in blade.blocked_by if b.rule.startswith("termination"))


def test_a_blade_sold_in_2027_has_nothing_to_change(decider):
    record, result = wwq(decider, **BLADE, sale_date=dt.date(2027, 12, 31))
    assert record.outcome == "qualified"
    assert result.note == "qualified" and result.candidates == ()


def test_kind_not_given_says_so(decider):
    facts = {k: v for k, v in COMMERCIAL.items() if k != "component"}
    record, result = wwq(decider, **facts, rated_output_voltage="480 V", ac_capacity="130 kW")
    assert record.outcome == "undetermined"
    assert result.note == "kind_not_given" and result.candidates == ()


def test_the_result_round_trips_its_json_and_schema(decider):
    _, result = wwq(decider, **COMMERCIAL, rated_output_voltage="480 V", ac_capacity="130 kW")
    data = json.loads(R.encode(result))
    assert data["candidates"][0]["changes"][0]["from"]["type"] == "quantity"
    assert qualify.schema()["$ref"].endswith("WhatWouldQualify")
    import msgspec
    assert msgspec.json.decode(R.encode(result), type=qualify.WhatWouldQualify) == result


# --- the command line ---------------------------------------------------------------------------------

@pytest.fixture()
def catalog(tmp_path):
    import yaml
    products = [{"product": "INV-130", **COMMERCIAL, "rated_output_voltage": "480 V", "ac_capacity": "130 kW"},
                {"product": "BLADE-2028", **BLADE, "sale_date": dt.date(2028, 3, 1)}]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"products": products}, sort_keys=False))
    return path


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_cli_flag_prints_the_block(catalog):
    out = run("explain", catalog, "--product", "INV-130", "--product", "BLADE-2028", "--what-would-qualify").output
    assert out.count("what would qualify") == 2
    assert "ac_capacity 130,000 W -> 125,000 W (5,000 W less), to be at most 125,000 W" in out
    assert "3c  Commercial inverter: change 1 fact (verified" in out
    assert "2b  Blade: unreachable" in out
    assert "termination.wind.sold_after_2027 any[1]: sale_date 2028-03-01, needed at most 2027-12-31" in out


def test_cli_without_the_flag_is_unchanged_and_json_puts_the_result_beside_the_record(catalog):
    plain = run("explain", catalog, "--product", "INV-130", "--format", "json")
    asked = run("explain", catalog, "--product", "INV-130", "--format", "json", "--what-would-qualify")
    assert plain.exit_code == asked.exit_code == 0
    records = json.loads(plain.output)
    assert "what_would_qualify" not in records[0]
    assert set(records[0]) == set(R.Decision.__struct_fields__) | {"record"}
    (both,) = json.loads(asked.output)
    assert set(both) == {"record", "what_would_qualify"}
    assert both["record"] == records[0]  # the record itself is the same, byte for byte below
    assert plain.output.splitlines()[1] in asked.output
    assert both["what_would_qualify"]["candidates"][0]["line"] == "3b"
    text = run("explain", catalog, "--product", "INV-130").output
    assert "what would qualify" not in text


def test_cli_on_a_records_file(catalog, tmp_path):
    records = tmp_path / "r.jsonl"
    run("classify", catalog, "--format", "jsonl", "-o", records)
    out = run("explain", records, "--product", "INV-130", "--what-would-qualify").output
    assert "3c  Commercial inverter: change 1 fact (verified" in out
