"""A threshold the law does not state for a date (no material-assistance threshold for a sale in
calendar 2025 in a taxable year beginning after July 4, 2025) decides where every value it could
take gives the same result, flagged for review, and leaves undetermined only what turns on it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ampc.decide.explain import Explainer
from ampc.decide.pipeline import decide_mappings
from ampc.io.report import explain, flag_text
from ampc.records.record import NotStatedByLaw
from ampc.rules.model import When
from ampc.rules.operators import for_every

ROOT = Path(__file__).resolve().parent.parent
CATALOG = yaml.safe_load((ROOT / "examples" / "catalog_2025_amendments.yaml").read_text(encoding="utf-8"))
FISCAL_2025 = {"taxable_year_begins": "2025-10-01", "production_date": "2025-11-01", "sale_date": "2025-11-15"}
THRESHOLD = "pfe.macr.threshold.inverters"


def inverter(pfe_costs: str, **more) -> dict:
    base = next(p for p in CATALOG["products"] if p["product"] == "INV-FY-2025")
    return {"product": f"FY-{pfe_costs}", "facts": {**base["facts"], **FISCAL_2025,
                                                    "total_direct_material_costs": "1000 USD",
                                                    "pfe_direct_material_costs": pfe_costs,
                                                    "binding_contract_election": False, **more}}


def decide(decider, item):
    [record] = decide_mappings([item], "test", decider)
    return record


def test_a_ratio_of_100_percent_is_below_no_threshold_so_it_qualifies_flagged(decider):
    record = decide(decider, inverter("0 USD"))
    assert (record.outcome, record.line) == ("qualified", "3c")
    [flag] = [f for f in record.flags if f.param == THRESHOLD]
    assert flag.kind == "not_stated_settled" and flag.rules == ("pfe.material_assistance.inverters",)
    assert "not stated in the law for 2025-11-15; decided all the same" in flag_text(flag, record)
    text = explain(record)
    assert "REVIEW (not_stated_settled)" in text and "is at least any value the threshold could take" in text


@pytest.mark.parametrize("pfe_costs", ["0.1 USD", "50 USD", "1000 USD"])  # 99.99 %, 95 %, 0 %
def test_a_ratio_the_threshold_could_be_above_or_below_stays_undetermined(decider, pfe_costs):
    record = decide(decider, inverter(pfe_costs))
    assert record.outcome == "undetermined" and record.reason.kind == "requirement_not_stated"
    [flag] = [f for f in record.flags if f.param == THRESHOLD]
    assert flag.kind == "not_stated"


def test_the_same_ratio_is_decided_by_the_stated_threshold_a_year_later(decider):
    later = {"taxable_year_begins": "2026-10-01", "production_date": "2026-11-01", "sale_date": "2026-11-15"}
    record = decide(decider, inverter("1000 USD", **later))  # 0 %, below the 2026 threshold of 50 %
    assert record.outcome == "rejected"
    assert not [f for f in record.flags if f.kind.startswith("not_stated")]


# the rule itself, at, inside and outside each bound of a range of 0 to 100
@pytest.mark.parametrize("op,actual,result", [
    ("at_least", "100", True), ("at_least", "99.99", None), ("at_least", "0", None), ("at_least", "-0.01", False),
    ("more_than", "100.01", True), ("more_than", "100", None), ("more_than", "0", False), ("more_than", "0.01", None),
    ("at_most", "0", True), ("at_most", "0.01", None), ("at_most", "100", None), ("at_most", "100.01", False),
    ("less_than", "-0.01", True), ("less_than", "0", None), ("less_than", "100", False), ("less_than", "99.99", None),
    ("is", "100", None),
])
def test_a_comparison_is_settled_only_if_every_threshold_in_the_range_agrees(op, actual, result):
    assert for_every(op, Decimal(actual), Decimal(0), Decimal(100)) is result


def test_without_a_declared_bound_nothing_is_settled_on_that_side():
    assert for_every("at_least", Decimal(100), Decimal(0), None) is None
    assert for_every("at_least", Decimal(-1), Decimal(0), None) is False



def test_after_a_threshold_ends_each_date_is_named_by_its_own_not_stated_threshold(ruleset):
    """The wind threshold ends after 2027 (its 2028 value is null): a sale in 2031 and one in 2033
    each meet a threshold the law does not state for their own date, and the values stated before
    stay in force in their years, whatever the order the dates are read in."""
    explainer = Explainer(ruleset)
    rule = ruleset.rule("pfe.material_assistance.wind")
    stated = {2026: Decimal(85), 2027: Decimal(90)}
    for day in ("2031-01-01", "2033-01-01", "2027-06-30", "2028-01-01", "2026-06-30", "2031-01-01"):
        sale = dt.date.fromisoformat(day)
        checks = explainer.evaluate(rule, {"material_assistance_cost_ratio": Decimal(88)}, When.on(sale)).checks
        [got] = {c.expected for c in checks if c.cmp.param == "pfe.macr.threshold.wind"}
        assert got == stated.get(sale.year, NotStatedByLaw("pfe.macr.threshold.wind", sale)), day
