"""The credit under the 2025 act (Pub. L. 119-21, sec. 70514): the phase-out of applicable critical
minerals by year of production, line 6b metallurgical coal at 2.5 %, a taxpayer that earns nothing
as a foreign-influenced entity, and what the January 2024 edition of the law computed instead.
The products are those of examples/catalog_2025_amendments.yaml, which is also classified whole."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from ampc.credit.compute import compute, load
from ampc.credit.worksheet import arithmetic, text, to_json
from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_rows
from ampc.io.catalog import read_catalog
from ampc.io.report import flag_text, reason, sentence
from ampc.rules.loader import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "catalog_2025_amendments.yaml"
HEADER = "facility,product,units,sale_date,production_date,costs\n"
JANUARY_2024 = dt.date(2025, 7, 3)  # the law as enacted before Pub. L. 119-21 (signed July 4, 2025)


def run(ruleset, tmp_path, rows: str):
    sales = tmp_path / "sales.csv"
    sales.write_text(HEADER + rows)
    catalog, ledger = load([CATALOG], sales, ruleset)
    result = compute(catalog, ledger, ruleset)
    assert not result.errors, [str(e) for e in result.errors]
    return result


def line(result, number):
    [sheet] = result.worksheets
    return sheet.lines[number]


# --- applicable critical minerals: 100 % through 2030, 75 % 2031, 50 % 2032, 25 % 2033, 0 % after ---
@pytest.mark.parametrize("produced,share", [(2030, 100), (2031, 75), (2032, 50), (2033, 25), (2034, 0)])
def test_critical_mineral_phase_out_by_year_of_production(ruleset, tmp_path, produced, share):
    result = run(ruleset, tmp_path, f"F,LIOH-2031,1,{produced}-09-01,{produced}-06-30,1000000 USD\n")
    [amount] = line(result, "6a").amounts
    assert amount.phase_out.percent == Decimal(share)
    assert (amount.phase_out.param, amount.phase_out.keyed_on, amount.phase_out.date) == \
        ("credit.phase_out.critical_minerals", "production", dt.date(produced, 6, 30))
    assert amount.credit == Decimal(100000) * share / 100  # 10 % of 1,000,000 USD, then the phase-out


def test_the_mineral_phase_out_follows_the_year_of_production_not_of_sale(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "F,LIOH-2031,1,2031-02-01,2030-12-31,1000000 USD\n"
                                    "F,LIOH-2031,1,2031-02-01,2031-01-01,1000000 USD\n")
    assert [a.phase_out.percent for a in line(result, "6a").amounts] == [Decimal(100), Decimal(75)]
    assert line(result, "6a").total == Decimal(100000) + Decimal(75000)
    assert "75 % phase-out (produced 2031)" in arithmetic(line(result, "6a").amounts[1])


def test_the_january_2024_edition_has_no_phase_out_for_minerals(tmp_path):
    old = load_ruleset(ROOT, known_on=JANUARY_2024)
    result = run(old, tmp_path, "F,LIOH-2031,1,2034-09-01,2034-06-30,1000000 USD\n")
    [amount] = line(result, "6a").amounts
    assert amount.phase_out is None and amount.credit == Decimal(100000)


# --- line 6b: metallurgical coal, 2.5 % of costs, produced by December 31, 2029 ---------------------
def test_metallurgical_coal_earns_two_and_a_half_percent_on_line_6b(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "F,COAL-2026,1,2026-07-01,2026-06-01,400000 USD\n")
    [amount] = line(result, "6b").amounts
    assert amount.credit == Decimal(10000) and amount.phase_out.percent == Decimal(100)  # sold in 2026
    assert not line(result, "6a").amounts  # not a Part IV line: nothing reaches line 74 or 6a
    [sheet] = result.worksheets
    assert sheet.part_iv() == {}


@pytest.mark.parametrize("produced,sold,earns", [("2025-09-01", "2025-10-01", False),  # calendar 2025: not yet
                                                 ("2026-01-02", "2026-01-05", True),
                                                 ("2029-12-31", "2030-01-15", True),
                                                 ("2030-01-01", "2030-03-01", False)])
def test_metallurgical_coal_on_both_sides_of_its_dates(ruleset, tmp_path, produced, sold, earns):
    result = run(ruleset, tmp_path, f"F,COAL-2026,1,{sold},{produced},400000 USD\n")
    [sheet] = result.worksheets
    assert bool(sheet.lines["6b"].amounts) is earns
    assert len(sheet.rejected) == (0 if earns else 1)


# 45X(b)(3)(C) as amended covers minerals "other than metallurgical coal": coal takes the general
# schedule of (b)(3)(A), by the year of sale, on top of its termination for coal produced after 2029.
@pytest.mark.parametrize("sold,share,credit", [("2029-12-31", 100, "10000.00"), ("2030-01-01", 75, "7500.00"),
                                               ("2031-06-30", 50, "5000.00"), ("2032-12-31", 25, "2500.00"),
                                               ("2033-01-01", 0, "0.00")])
def test_metallurgical_coal_phases_out_by_the_year_of_sale(ruleset, tmp_path, sold, share, credit):
    result = run(ruleset, tmp_path, f"F,COAL-2026,1,{sold},2029-06-01,400000 USD\n")
    [amount] = line(result, "6b").amounts
    assert (amount.phase_out.param, amount.phase_out.keyed_on, amount.phase_out.percent) == \
        ("credit.phase_out.components", "sale", Decimal(share))
    assert amount.credit.quantize(Decimal("0.01")) == Decimal(credit)  # 2.5 % of 400,000 USD, then the share
    assert line(result, "6b").total.quantize(Decimal("0.01")) == Decimal(credit)


def test_the_january_2024_edition_has_no_line_6b(tmp_path):
    old = load_ruleset(ROOT, known_on=JANUARY_2024)
    assert "6b" not in old.credits
    result = run(old, tmp_path, "F,COAL-2026,1,2026-07-01,2026-06-01,400000 USD\n")
    [sheet] = result.worksheets
    [rejected] = sheet.rejected
    assert rejected.record.reason.kind == "no_rule_in_force"
    assert "no rule for a metallurgical_coal is in force" in reason(rejected.record)


# --- the taxpayer: a foreign-influenced entity earns nothing, and the record says why -------------
def test_a_taxpayer_owned_30_percent_by_a_specified_foreign_entity_earns_nothing(ruleset, tmp_path):
    sales = tmp_path / "sales.csv"
    sales.write_text("facility,product,units,sale_date\nF,INV-SFE-30-2026,10,2026-03-01\n")
    catalog, ledger = load([CATALOG], sales, ruleset)
    result = compute(catalog, ledger, ruleset)
    [sheet] = result.worksheets
    assert sheet.total == 0 and not sheet.amounts
    [rejected] = sheet.rejected
    assert rejected.outcome == "rejected"
    assert "Taxpayer is not a foreign-influenced entity" in reason(rejected.record)
    assert "(bb) no single specified foreign entity owns at least 25 percent" in reason(rejected.record)
    failed = rejected.record.considered_rule("pfe.taxpayer.foreign_influenced_entity")
    assert [sentence(c) for c in failed.decisive()] == \
        ["largest_specified_foreign_entity_ownership 30 % is not less than 25 %"]


# --- the example catalog, product by product ------------------------------------------------------
EXPECTED = {
    "BLADE-SOLD-2027": ("qualified", "2b"), "BLADE-SOLD-2028": ("rejected", None),
    "BLADE-MADE-2028": ("rejected", None),
    "COAL-2025": ("rejected", None), "COAL-2026": ("qualified", "6b"), "COAL-2029-SOLD-2030": ("qualified", "6b"),
    "COAL-2030": ("rejected", None), "LIOH-2031": ("qualified", "6a"),
    "MOD-NO-EQUIP-2025": ("qualified", "5b"), "MOD-NO-EQUIP-2026": ("rejected", None),
    "MOD-EQUIP-2026": ("qualified", "5b"),
    "INTEGRATED-2026": ("qualified", "1e"), "INTEGRATED-2027": ("qualified", "1e"),
    "INTEGRATED-2027-LOW": ("rejected", None),
    "INV-55-2027": ("qualified", "3c"), "INV-54.9-2027": ("rejected", None),
    "INV-BINDING-2026": ("qualified", "3c"), "INV-BINDING-2027": ("rejected", None),
    "CELL-80-2029": ("qualified", "5a"), "CELL-79.9-2029": ("rejected", None),
    "LIOH-ANY-2028": ("qualified", "6a"), "INV-SFE-30-2026": ("rejected", None),
    "INV-FY-2025": ("undetermined", None),
}


def test_the_example_catalog_shows_each_change(ruleset):
    rows = read_catalog(CATALOG, ruleset)
    with Decider(ruleset) as decider:
        decisions = {d.product: d for d in decide_rows(rows, decider)}  # each at its own sale date
    assert {p: (d.outcome, d.line) for p, d in decisions.items()} == EXPECTED
    assert [f.kind for f in decisions["BLADE-SOLD-2028"].flags] == ["interpretation", "not_stated"]
    assert "termination.wind.sold_after_2027" in flag_text(decisions["BLADE-SOLD-2028"].flags[0],
                                                           decisions["BLADE-SOLD-2028"])
    assert [f.kind for f in decisions["INV-FY-2025"].flags] == ["not_stated"]
    assert decisions["INV-FY-2025"].dates.taxable_year_begins == dt.date(2025, 10, 1)


# The open reading minerals.phase_out_by_production: only the minerals' own schedule applies; an
# amount is flagged exactly where the general schedule by year of sale would give a smaller share.
@pytest.mark.parametrize("produced,sold,share,flagged", [("2029-06-30", "2029-12-31", 100, False),
                                                         ("2029-06-30", "2030-01-01", 100, True),
                                                         ("2030-12-31", "2032-12-31", 100, True),
                                                         ("2031-06-30", "2031-09-01", 75, True),
                                                         ("2033-06-30", "2033-09-01", 25, True)])
def test_a_mineral_sold_after_2029_is_flagged_for_the_reading_it_turns_on(ruleset, tmp_path, produced, sold,
                                                                           share, flagged):
    result = run(ruleset, tmp_path, f"F,LIOH-2031,1,{sold},{produced},1000000 USD\n")
    [amount] = line(result, "6a").amounts
    assert amount.phase_out.percent == Decimal(share)
    assert amount.review == ("minerals.phase_out_by_production" if flagged else "")
    [sheet] = json.loads(to_json(result, ruleset))["worksheets"]
    [sale] = [s for s in sheet["sales"] if s["line"] == "6a"]
    assert sale.get("review", "") == amount.review  # the JSON worksheet carries it
    assert ("open reading minerals.phase_out_by_production" in text(result, ruleset)) is flagged


def test_the_worksheet_names_the_edition_that_decided_its_sales(ruleset, tmp_path):
    old = run(ruleset, tmp_path, "F,COAL-2026,1,2024-07-01,2024-06-01,400000 USD\n")  # no 2025 rule in force
    new = run(ruleset, tmp_path, "F,COAL-2026,1,2026-07-01,2026-06-01,400000 USD\n")
    assert "; decided under the edition 2024-01\n" in text(old, ruleset)
    assert "; decided under the edition 2025-12\n" in text(new, ruleset)
    [sheet] = new.worksheets
    assert {a.record.ruleset.edition for a in sheet.amounts} == {"2025-12"}
