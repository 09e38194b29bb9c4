"""Derived inputs given directly: a catalog may give a computed fact that definitions/ declare
`given_instead_of` its inputs, the material assistance cost ratio (IRC 7701(a)(52)) instead of the
direct material costs, and a battery's capacity-to-power ratio (45X(b)(4)(B)) instead of its
maximum discharge amount. Given alone it is decided, and credited, like its twin that gives the
inputs; given with every input, the two must agree to the decimal places the ratio is written with,
or that row alone is an error; the credit's cap works from either (45X(b)(4))."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ampc.cli import main
from ampc.credit.compute import compute, load
from ampc.credit.worksheet import cap_notes
from ampc.decide.pipeline import decide_mappings
from ampc.errors import ValidationFailed
from ampc.io.catalog import read_catalog
from ampc.records import record as R
from ampc.rules.formula import PLACES
from ampc.rules.loader import load_ruleset
from caselib import CASES, copy_rule_set

ROOT = Path(__file__).resolve().parent.parent
COSTS = ("total_direct_material_costs", "pfe_direct_material_costs", "binding_contract_direct_material_costs",
         "binding_contract_pfe_direct_material_costs")
MACR, WITHOUT = "material_assistance_cost_ratio", "material_assistance_cost_ratio_without_binding_contracts"


def pfe_product(**facts) -> dict:
    """The product of the prohibited-foreign-entity cases (a 100 kW commercial inverter, line 3c, sold
    June 30, 2027), without its direct material costs, and with these facts."""
    data = yaml.safe_load((CASES / "special_rules" / "prohibited_foreign_entities.yaml").read_text())
    item = {k: v for k, v in data["defaults"]["facts"].items() if k not in COSTS}
    return {"as_of": data["defaults"]["as_of"], **item, **facts}


def decide(decider, *items: dict) -> list:
    return decide_mappings(list(items), "catalog", decider)


def pfe_considered(record) -> dict:
    return {c.rule: c for c in record.considered if c.rule.startswith("pfe.")}


# --- the material assistance cost ratio given instead of the costs ---------------------------------
# An inverter sold in 2027: the threshold is 55 % (pfe.macr.threshold.inverters); in 2026, 50 %.
@pytest.mark.parametrize("given,costs,outcome", [
    ({MACR: "95 %"}, {COSTS[0]: "1000 USD", COSTS[1]: "50 USD"}, "qualified"),
    ({MACR: "55 %"}, {COSTS[0]: "1000 USD", COSTS[1]: "450 USD"}, "qualified"),  # at the threshold
    ({MACR: "55.01 %"}, {COSTS[0]: "10000 USD", COSTS[1]: "4499 USD"}, "qualified"),  # just inside
    ({MACR: "54.99 %"}, {COSTS[0]: "10000 USD", COSTS[1]: "4501 USD"}, "rejected"),  # just outside
    # sold in 2026 with the election: both ratios given, against the four costs (full 48 %, fails;
    # binding contracts left out (800 - 370) / 800 = 53.75 %, holds)
    ({MACR: "48 %", WITHOUT: "53.75 %", "binding_contract_election": True, "sale_date": "2026-06-30",
      "production_date": "2026-06-01", "as_of": "2026-06-30"},
     {COSTS[0]: "1000 USD", COSTS[1]: "520 USD", COSTS[2]: "200 USD", COSTS[3]: "150 USD",
      "binding_contract_election": True, "sale_date": "2026-06-30", "production_date": "2026-06-01",
      "as_of": "2026-06-30"}, "qualified"),
], ids=["95 %", "at 55 %", "55.01 % just inside", "54.99 % just outside", "2026 election, both ratios"])
def test_a_ratio_given_alone_is_decided_like_its_twin_with_costs(decider, given, costs, outcome):
    by_ratio, by_costs = decide(decider, pfe_product(product="RATIO", **given), pfe_product(product="COSTS", **costs))
    assert not isinstance(by_ratio, R.ErrorRecord), by_ratio.error
    assert (by_ratio.outcome, by_ratio.line, by_ratio.reason) == (by_costs.outcome, by_costs.line, by_costs.reason)
    assert by_ratio.outcome == outcome
    assert pfe_considered(by_ratio) == pfe_considered(by_costs)  # every clause: actual, threshold, verdict
    rule = pfe_considered(by_ratio)["pfe.material_assistance.inverters"]
    assert rule.result == ("holds" if outcome == "qualified" else "fails")
    assert MACR not in by_costs.inputs.values and by_ratio.inputs.values[MACR] == given[MACR]


@pytest.mark.parametrize("ratio,total,pfe", [
    ("62.5 %", "1000 USD", "375 USD"),  # exactly
    ("66.7 %", "3 USD", "1 USD"),  # 66.666...% to one place
    ("66.67 %", "3 USD", "1 USD"),  # to two places
    ("62.5 %", "10000 USD", "3751 USD"),  # 62.49 % rounds to 62.5 %
    ("62.5 %", "10000 USD", "3755 USD"),  # 62.45 %, half way: either rounding gives 62.5 %
])
def test_a_ratio_given_with_its_costs_that_agree_to_its_places_is_used(decider, ratio, total, pfe):
    [record] = decide(decider, pfe_product(product="BOTH", **{MACR: ratio, COSTS[0]: total, COSTS[1]: pfe}))
    assert not isinstance(record, R.ErrorRecord), record.error
    assert record.outcome == "qualified"
    assert record.facts[MACR] == R.quantity(Decimal(ratio.split()[0]), "percent")  # as given, not recomputed


@pytest.mark.parametrize("ratio,total,pfe,computed", [
    ("62.5 %", "1000 USD", "400 USD", "60 %"),
    ("66.6 %", "3 USD", "1 USD", "about 66.667 %"),
    ("66.66 %", "3 USD", "1 USD", "about 66.6667 %"),
    ("62.50 %", "10000 USD", "3751 USD", "62.49 %"),  # two places written: 62.49 % does not round to 62.50 %
    ("62.5 %", "10000 USD", "3756 USD", "62.44 %"),
])
def test_a_ratio_that_disagrees_with_its_costs_is_an_error_naming_both(decider, ratio, total, pfe, computed):
    [record] = decide(decider, pfe_product(product="BOTH", **{MACR: ratio, COSTS[0]: total, COSTS[1]: pfe}))
    assert isinstance(record, R.ErrorRecord)
    message, fix = record.error.message, record.error.fix
    grouped = {"1000 USD": "1,000 USD", "10000 USD": "10,000 USD", "3751 USD": "3,751 USD", "3756 USD": "3,756 USD"}
    assert message == (f"{MACR} is given as {ratio}, but the facts it is computed from give {computed} "
                       f"({COSTS[0]} {grouped.get(total, total)}, {COSTS[1]} {grouped.get(pfe, pfe)})")
    assert f"give either {MACR} or the facts it is computed from" in fix and "correct them" in fix


def test_a_ratio_given_with_only_some_costs_is_used_as_given(decider):
    [record] = decide(decider, pfe_product(product="PART", **{MACR: "54 %", COSTS[0]: "1000 USD"}))
    assert not isinstance(record, R.ErrorRecord), record.error
    assert record.outcome == "rejected"  # 54 % < 55 %, the given ratio decides; the total alone settles nothing
    assert record.facts[MACR] == R.quantity(Decimal(54), "percent")
    assert pfe_considered(record)["pfe.material_assistance.inverters"].result == "fails"


@pytest.mark.parametrize("ratio,words", [
    ("100.01 %", ["given as 100.01 %", "outside the values it can take (from 0 % to 100 %)"]),
    ("-1 %", ["given as -1 %", "outside"]),
    ("0.95", ["'0.95' has no unit"]),  # a bare fraction is never read as 0.95 %
])
def test_a_ratio_outside_its_range_or_without_its_unit_is_refused(decider, ratio, words):
    [record] = decide(decider, pfe_product(product="BAD", **{MACR: ratio}))
    assert isinstance(record, R.ErrorRecord)
    assert all(w in record.error.message for w in words), record.error.message


def test_an_inconsistent_row_is_an_error_and_every_other_row_is_decided(tmp_path):
    rows = [pfe_product(product="RATIO", **{MACR: "95 %"}),
            pfe_product(product="WRONG", **{MACR: "95 %", COSTS[0]: "1000 USD", COSTS[1]: "60 USD"}),
            pfe_product(product="COSTS", **{COSTS[0]: "1000 USD", COSTS[1]: "50 USD"})]
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(rows))
    result = CliRunner().invoke(main, ["classify", str(catalog), "--format", "jsonl", "-q"])
    out = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert len(out) == len(rows)  # rows in = records + errors
    assert [d["product"] for d in out] == ["RATIO", "WRONG", "COSTS"]
    assert [d.get("outcome") for d in out] == ["qualified", None, "qualified"]
    error = out[1]["error"]
    assert "given as 95 %, but the facts it is computed from give 94 %" in error["message"]
    assert "Decimal(" not in result.output and "Quantity(" not in result.output
    assert result.exit_code == 1  # some rows could not be read


# --- only facts declared given_instead_of may be given -----------------------------------------
def test_a_computed_fact_not_declared_given_instead_of_is_refused_as_before(tmp_path):
    root = copy_rule_set(tmp_path / "rules")
    facts = root / "definitions" / "facts" / "material_assistance.yaml"
    text = facts.read_text()
    declared = "    given_instead_of: [total_direct_material_costs, pfe_direct_material_costs]\n"
    assert text.count(declared) == 1
    facts.write_text(text.replace(declared, ""))
    ruleset = load_ruleset(root)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump([{"product": "P", MACR: "95 %"}]))
    [row] = read_catalog(catalog, ruleset)
    assert row.problem is not None and row.problem.key == MACR
    assert f"'{MACR}' is computed from other facts, not read from a catalog" in row.problem.message


@pytest.mark.parametrize("old,new,words", [
    ("given_instead_of: [max_discharge]", "given_instead_of: [energy_density]",
     ["'capacity_to_power_ratio' is given instead of 'energy_density', which its formula does not use"]),
    ("    computed:\n      ratio: [rated_capacity, max_discharge]\n", "",
     ["fact 'capacity_to_power_ratio' is missing 'computed'"]),
], ids=["not an input", "not computed"])
def test_given_instead_of_must_name_inputs_of_a_formula(tmp_path, old, new, words):
    root = copy_rule_set(tmp_path)
    facts = root / "definitions" / "facts" / "batteries.yaml"
    text = facts.read_text()
    assert text.count(old) == 1
    facts.write_text(text.replace(old, new))
    with pytest.raises(ValidationFailed) as failed:
        load_ruleset(root)
    problems = " | ".join(str(p) for p in failed.value.problems)
    assert all(w in problems for w in words), problems


def test_a_cap_by_a_ratio_fact_needs_the_ratio_of_the_capped_fact_to_the_cap_fact(tmp_path):
    root = copy_rule_set(tmp_path)
    amounts = root / "rules" / "credit" / "amounts.yaml"
    text = amounts.read_text()
    assert text.count("ratio_fact: capacity_to_power_ratio}") == 3
    amounts.write_text(text.replace("ratio_fact: capacity_to_power_ratio}", "ratio_fact: energy_density}", 1))
    with pytest.raises(ValidationFailed) as failed:
        load_ruleset(root)
    problems = " | ".join(str(p) for p in failed.value.problems)
    assert "capped_by's ratio_fact 'energy_density' must be a fact computed as {ratio: [rated_capacity, " \
           "max_discharge]} and given instead of max_discharge" in problems, problems


# --- the battery's capacity-to-power ratio given instead of its maximum discharge amount ---------
LIMIT = Decimal(100)  # credit.battery.capacity_to_power_limit: 100:1, in hours


def battery(product: str, **facts) -> dict:
    """A battery cell of 10 kWh that qualifies on line 5a (the credit example's cell), with these facts."""
    data = yaml.safe_load((ROOT / "examples" / "credit" / "catalog.yaml").read_text())
    cell = next(p for p in data["products"] if p["product"] == "CELL-LONG")
    item = {k: v for k, v in cell.items() if k not in ("max_discharge", "description")}
    return {**item, "product": product, "rated_capacity": "10 kWh", **facts}


def credit_run(tmp_path, products: list[dict]) -> dict:
    """`ampc credit --format json` over these products, each sold 10 times on July 3, 2025."""
    catalog, sales = tmp_path / "catalog.yaml", tmp_path / "sales.csv"
    catalog.write_text(yaml.safe_dump(products))
    sales.write_text("facility,product,units,sale_date\n" + "".join(f"F,{p['product']},10,2025-07-03\n"
                                                                     for p in products))
    result = CliRunner().invoke(main, ["credit", "--catalog", str(catalog), "--sales", str(sales),
                                       "--format", "json"])
    data = json.loads(result.output)
    assert result.exit_code == 0 and not data["errors"], result.output
    return {s["sale"]["product"]: s for sheet in data["worksheets"] for s in sheet["sales"]}


@pytest.mark.parametrize("ratio,discharge,counted", [
    ("100 h", "0.1 kW", "10"),  # exactly at 100:1: nothing capped
    ("80 h", "0.125 kW", "10"),  # inside
    ("125 h", "0.08 kW", "8"),  # outside: 10 kWh x 100 / 125 = 100 h x 0.08 kW = 8 kWh
    ("250 hour", "0.04 kW", "4"),
    ("1000", "0.01 kW", "1"),  # a bare number is read in hours: 1000:1
], ids=["at 100:1", "80:1", "125:1", "250:1", "bare 1000"])
def test_a_battery_with_only_the_ratio_earns_the_credit_of_its_twin_with_max_discharge(tmp_path, ratio,
                                                                                        discharge, counted):
    sales = credit_run(tmp_path, [battery("BY-RATIO", capacity_to_power_ratio=ratio),
                                  battery("BY-DISCHARGE", max_discharge=discharge)])
    by_ratio, by_discharge = sales["BY-RATIO"], sales["BY-DISCHARGE"]
    assert by_ratio["line"] == by_discharge["line"] == "5a"
    assert by_ratio["base"]["per_unit"] == by_discharge["base"]["per_unit"] == \
        {"type": "quantity", "value": counted, "unit": "kWh"}
    assert by_ratio["base"]["amount"] == by_discharge["base"]["amount"]
    assert by_ratio["credit"] == by_discharge["credit"] == str(Decimal(counted) * 10 * 35)  # $35 per kWh
    capped = counted != "10"
    assert (by_ratio["base"]["cap"] is not None, by_discharge["base"]["cap"] is not None) == (capped, capped)
    if capped:
        cap = by_ratio["base"]["cap"]
        assert (cap["other_fact"], cap["from_ratio"], cap["counted"]) == \
            ("capacity_to_power_ratio", True, by_discharge["base"]["cap"]["counted"])


@pytest.mark.parametrize("ratio,capped", [("100 h", False), ("99.99 h", False), ("100.01 h", True)],
                         ids=["at the limit", "just inside", "just outside"])
def test_the_cap_by_the_ratio_at_just_inside_and_just_outside_the_limit(ruleset, tmp_path, ratio, capped):
    catalog, sales = tmp_path / "catalog.yaml", tmp_path / "sales.csv"
    catalog.write_text(yaml.safe_dump([battery("CELL", capacity_to_power_ratio=ratio)]))
    sales.write_text("facility,product,units,sale_date\nF,CELL,10,2025-07-03\n")
    run = compute(*load([catalog], sales, ruleset), ruleset)
    assert not run.errors, [str(e) for e in run.errors]
    [amount] = run.worksheets[0].lines["5a"].amounts
    given = Decimal(ratio.split()[0])
    if not capped:
        assert amount.base.cap is None and amount.base.per_unit == R.Quantity(Decimal(10), "kWh")
        return
    expected = R.plain_decimal((Decimal(10) * LIMIT / given).quantize(PLACES))  # 9.99900009999... kWh
    cap = amount.base.cap
    assert cap.counted == R.Quantity(expected, "kWh") and expected < 10
    assert (cap.other_fact, cap.other, cap.from_ratio) == ("capacity_to_power_ratio", R.Quantity(given, "hour"), True)
    assert amount.base.amount == R.Quantity(R.plain_decimal(expected * 10), "kWh")
    [note] = cap_notes(amount)
    assert note.startswith(f"capacity counted {R.plain_decimal(expected):,} kWh = 10 kWh x 100 hour / "
                           f"{given} hour (IRC 45X(b)(4) cap), not the rated 10 kWh")


def test_the_ratio_and_max_discharge_given_and_agreeing_cap_by_max_discharge(tmp_path):
    sales = credit_run(tmp_path, [battery("BOTH", max_discharge="0.08 kW", capacity_to_power_ratio="125 h")])
    cap = sales["BOTH"]["base"]["cap"]
    assert (cap["other_fact"], cap["from_ratio"], cap["counted"]["value"]) == ("max_discharge", False, "8")


def test_a_battery_ratio_that_disagrees_with_its_max_discharge_is_an_error(decider):
    [record] = decide(decider, battery("BOTH", max_discharge="0.1 kW", capacity_to_power_ratio="100.1 h"))
    assert isinstance(record, R.ErrorRecord)
    assert record.error.message == ("capacity_to_power_ratio is given as 100.1 hour, but the facts it is computed "
                                    "from give 100 hour (rated_capacity 10 kWh, max_discharge 0.1 kW)")


def test_a_battery_with_neither_max_discharge_nor_the_ratio_cannot_be_credited(ruleset, tmp_path):
    catalog, sales = tmp_path / "catalog.yaml", tmp_path / "sales.csv"
    catalog.write_text(yaml.safe_dump([battery("CELL")]))
    sales.write_text("facility,product,units,sale_date\nF,CELL,10,2025-07-03\n")
    run = compute(*load([catalog], sales, ruleset), ruleset)
    [error] = run.errors
    assert "capped by the maximum discharge amount ('max_discharge') or the capacity-to-power ratio " \
           "('capacity_to_power_ratio'), which is not given" in error.message
    assert "add 'max_discharge' or 'capacity_to_power_ratio'" in error.fix
