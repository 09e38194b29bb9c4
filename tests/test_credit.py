"""The credit and the Form 7207 worksheet: the instructions' worked examples, phase-out, caps, bad rows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.cli import main
from ampc.credit.compute import compute, load
from ampc.credit.model import Claimed
from ampc.credit.worksheet import arithmetic, cap_notes, flags, problem_text
from ampc.io.report import reason, value_text
from ampc.records import record as R

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "credit" / "catalog.yaml"
HEADER = "facility,product,units,sale_date,production_date,turbine_capacity [MW],costs,claimed_line\n"


def run(ruleset, tmp_path, rows: str, tax_year=None):
    sales = tmp_path / "sales.csv"
    sales.write_text(HEADER + rows)
    catalog, ledger = load([CATALOG], sales, ruleset)
    return compute(catalog, ledger, ruleset, tax_year)


def line(result, number):
    [sheet] = result.worksheets
    return sheet.lines[number]


@pytest.mark.parametrize("number,rows,aggregate,credit", [
    # 500 thin film cells of 100 W and 1,500 crystalline cells of 200 W, at $0.04 per W
    ("1a", "F,CELL-TF-100,500,2025-02-10,,,,\nF,CELL-CR-200,1500,2025-03-15,,,,\n", 350000, "14000.00"),
    # 300 modules of 100 W and 400 of 200 W, at $0.07 per W
    ("1e", "F,MOD-100,300,2025-04-01,,,,\nF,MOD-200,400,2025-05-20,,,,\n", 110000, "7700.00"),
    # 3 blades for a 6 MW turbine and 3 for a 10 MW turbine, at $0.02 per W
    ("2b", "F,BLADE-6MW,3,2025-06-01,,6,,\nF,BLADE-10MW,3,2025-06-02,,10,,\n", 48_000_000, "960000.00"),
    # 50 cells of 12 kWh and 100 of 15 kWh, at $35 per kWh
    ("5a", "F,CELL-12KWH,50,2025-07-01,,,,\nF,CELL-15KWH,100,2025-07-02,,,,\n", 2100, "73500"),
], ids=["line 1a", "line 1e", "line 2b", "line 5a"])
def test_the_instructions_worked_examples(ruleset, tmp_path, number, rows, aggregate, credit):
    result = run(ruleset, tmp_path, rows)
    assert line(result, number).aggregate == Decimal(aggregate)
    assert line(result, number).total == Decimal(credit)


def test_a_1000_watt_central_inverter_never_lands_on_3a(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "F,INV-1KW,50,2025-08-01,,,,3a\n")
    [sheet] = result.worksheets
    assert not sheet.lines["3a"].amounts
    [amount] = sheet.lines["3d"].amounts
    assert amount.base.amount == R.Quantity(Decimal(50000), "W")
    assert amount.claimed == Claimed("3a", "3d")
    assert flags(amount) == ["booked to line 3a, but the product meets line 3d: entered on 3d"]


@pytest.mark.parametrize("year,share", [(2029, 100), (2030, 75), (2031, 50), (2032, 25), (2033, 0)])
def test_phase_out_by_year_of_sale(ruleset, tmp_path, year, share):
    result = run(ruleset, tmp_path, f"F,MOD-100,300,{year}-06-30,2025-03-01,,,\n")
    total = line(result, "1e").total
    assert total == Decimal("2100.00") * share / 100  # 300 x 100 W x $0.07 = $2,100 before phase-out


def test_phase_out_boundary_is_the_calendar_year_of_sale(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "F,MOD-100,300,2029-12-31,,,,\nF,MOD-100,300,2030-01-01,,,,\n")
    amounts = line(result, "1e").amounts
    assert [a.phase_out.percent for a in amounts] == [Decimal(100), Decimal(75)]
    assert [(a.phase_out.param, a.phase_out.date.year) for a in amounts] == \
        [("credit.phase_out.components", 2029), ("credit.phase_out.components", 2030)]
    assert line(result, "1e").total == Decimal("2100") + Decimal("1575")


def test_critical_mineral_costs_in_2030_earn_the_full_ten_percent(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "F,LI-OH,1,2030-09-01,2030-06-30,,1000000 USD,\n")
    assert line(result, "6a").total == Decimal(100000)
    [amount] = line(result, "6a").amounts
    assert amount.phase_out.percent == Decimal(100)  # Pub. L. 119-21: by year of production, 100 % through 2030


def test_battery_above_100_to_1_counts_only_the_capped_capacity(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "F,CELL-LONG,10,2025-07-03,,,,\n")
    [amount] = line(result, "5a").amounts
    assert amount.base.amount == R.Quantity(Decimal(100), "kWh")  # 10 units x 10 kWh counted, not 12 kWh rated
    assert amount.credit == Decimal(3500)
    cap = amount.base.cap
    assert (cap.rated, cap.counted, cap.ratio, cap.other) == (R.Quantity(Decimal(12), "kWh"),
                                                              R.Quantity(Decimal(10), "kWh"),
                                                              R.Quantity(Decimal(100), "hour"),
                                                              R.Quantity(Decimal("0.1"), "kW"))
    assert (cap.ratio_param, cap.fact, cap.other_fact) == ("credit.battery.capacity_to_power_limit",
                                                           "rated_capacity", "max_discharge")
    assert arithmetic(amount) == "10 units x 10 kWh = 100 kWh; x 35 USD/kWh = $3,500"
    [note] = cap_notes(amount, line(result, "5a").credit.notes)
    assert "capacity counted 10 kWh" in note and "not the rated 12 kWh" in note
    assert "with a capacity-to-power ratio not exceeding 100:1" in note  # the instructions' wording beside it


def test_rejected_sales_are_kept_with_their_reason_and_base(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "F,MOD-100,300,2025-04-01,,,,\nF,MOD-400-CA,50,2025-05-20,,,,\n")
    [sheet] = result.worksheets
    [rejected] = sheet.rejected
    assert rejected.row.roles["product"] == "MOD-400-CA" and rejected.outcome == "rejected"
    assert rejected.record.reason.kind == "requirement_fails"
    assert "fails the rule 'Produced in the United States or a territory'" in reason(rejected.record)
    assert rejected.base == R.Quantity(Decimal(20000), "W") and value_text(rejected.base) == "20,000 W"
    from ampc.credit.worksheet import rejected_totals
    assert rejected_totals(sheet) == "1e: 1 sale(s) holding 20,000 W"


def test_bad_ledger_rows_are_reported_and_the_rest_computed(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "\n".join([
        "F,MOD-100,300,2025-04-01,,,,",      # row 2: fine
        "F,MOD-10O,300,2025-04-01,,,,",      # row 3: unknown product (a typo)
        "F,MOD-100,-5,2025-04-01,,,,",       # row 4: negative quantity
        "F,MOD-100,300,2025-13-45,,,,",      # row 5: not a date
        "F,BLADE-6MW,3,2025-06-01,,,,",      # row 6: missing base (turbine capacity)
    ]) + "\n")
    assert line(result, "1e").aggregate == Decimal(30000)
    errors = {p.where.split(" row ")[1].split(",")[0]: problem_text(p) for p in result.errors}
    assert "unknown product 'MOD-10O' (did you mean 'MOD-100'?)" in errors["3"]
    assert "'-5' is below units' minimum of 0" in errors["4"]  # the ledger's range (definitions/ledger.yaml)
    assert "'2025-13-45' is not a date" in errors["5"] and "YYYY-MM-DD" in errors["5"]
    assert "rated capacity of the completed wind turbine" in errors["6"] and "turbine_capacity" in errors["6"]
    assert all("fix:" in text for text in errors.values())


def test_one_worksheet_per_facility(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "EAST,MOD-100,300,2025-04-01,,,,\nWEST,MOD-200,400,2025-05-20,,,,\n")
    assert [(s.facility, s.lines["1e"].aggregate) for s in result.worksheets] == \
        [("EAST", Decimal(30000)), ("WEST", Decimal(80000))]


def test_tax_year_counts_only_its_sales_and_says_so(ruleset, tmp_path):
    result = run(ruleset, tmp_path, "F,MOD-100,300,2024-12-31,,,,\nF,MOD-100,300,2025-01-01,,,,\n", tax_year=2025)
    assert line(result, "1e").aggregate == Decimal(30000)
    assert len(result.outside_year) == 1


def test_rounding_keeps_exact_amounts_and_rounds_for_display(ruleset, tmp_path):
    from ampc.credit.model import cents, dollars
    result = run(ruleset, tmp_path, "F,MOD-100,1,2025-04-01,,,,\n" * 1 + "F,CELL-TF-100,3,2025-04-01,,,,\n")
    assert line(result, "1e").total == Decimal("7.00")
    assert cents(Decimal("2500.0025")) == Decimal("2500.00") and dollars(Decimal("2500.5")) == Decimal(2501)


def test_cli_credit_formats_and_explain(tmp_path):
    sales = tmp_path / "sales.csv"
    sales.write_text(HEADER + "F,CELL-TF-100,500,2025-02-10,,,,\nF,CELL-CR-200,1500,2025-03-15,,,,\n")
    runner = CliRunner()
    base = ["credit", "--catalog", str(CATALOG), "--sales", str(sales)]
    table = runner.invoke(main, base)
    assert table.exit_code == 0, table.output
    assert "350,000 W" in table.output and "$14,000.00" in table.output
    data = json.loads(runner.invoke(main, base + ["--format", "json"]).output)
    [row] = [r for r in data["worksheets"][0]["part_ii"] if r["line"] == "1a"]
    assert row["aggregate"] == {"type": "quantity", "value": "350000", "unit": "W"}
    assert row["credit"] == {"exact": "14000", "cents": "14000.00", "whole_dollars": "14000"}
    csv_text = runner.invoke(main, base + ["--format", "csv"]).output
    assert csv_text.splitlines()[0].startswith("facility,line,component")
    assert "# Form 7207 worksheet: F" in runner.invoke(main, base + ["--format", "markdown"]).output
    explained = runner.invoke(main, base + ["--explain", "1a"]).output
    assert "500 units x 100 W = 50,000 W; x 0.04 USD/W = $2,000" in explained
    assert "1,500 units x 200 W = 300,000 W; x 0.04 USD/W = $12,000" in explained


def test_cli_credit_exits_non_zero_on_bad_rows(tmp_path):
    sales = tmp_path / "sales.csv"
    sales.write_text(HEADER + "F,MOD-100,300,2025-04-01,,,,\nF,NOPE,1,2025-04-01,,,,\n")
    result = CliRunner().invoke(main, ["credit", "--catalog", str(CATALOG), "--sales", str(sales)])
    assert result.exit_code == 1
    assert "row 3: unknown product 'NOPE'" in result.output and "30,000 W" in result.output
