"""Fiscal-year filers: --tax-year takes a taxable year by its first and last day, or a year with
--year-end; sales are grouped by the taxable year they fall in; the 2025 act's rules ("taxable
years beginning after July 4, 2025") read that year's first day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.cli import main
from ampc.credit.compute import compute, load
from ampc.credit.model import TaxYear

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "catalog_2025_amendments.yaml"


def test_a_taxable_year_from_its_last_month():
    assert TaxYear.of(dt.date(2026, 3, 1), 6) == TaxYear(dt.date(2025, 7, 1), dt.date(2026, 6, 30))
    assert TaxYear.of(dt.date(2026, 6, 30), 6) == TaxYear(dt.date(2025, 7, 1), dt.date(2026, 6, 30))
    assert TaxYear.of(dt.date(2026, 7, 1), 6) == TaxYear(dt.date(2026, 7, 1), dt.date(2027, 6, 30))
    assert TaxYear.of(dt.date(2026, 3, 1), 12) == TaxYear(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert TaxYear.beginning_in(2025, 6) == TaxYear(dt.date(2025, 7, 1), dt.date(2026, 6, 30))
    assert TaxYear.beginning_in(2025, 1) == TaxYear(dt.date(2025, 2, 1), dt.date(2026, 1, 31))


def _sales(tmp_path: Path, *dates: str) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text("facility,product,units,sale_date,production_date\n"
                    + "".join(f"F,INV-SFE-30-2026,10,{d},2026-02-01\n" for d in dates))
    return path


@pytest.mark.parametrize("year_end,outcome,begins", [
    (None, "rejected", "2026-01-01"),  # calendar year 2026: after July 4, 2025, the foreign-entity rules apply
    (6, "qualified", "2025-07-01"),  # the fiscal year began July 1, 2025: not after July 4, 2025
    (7, "rejected", "2025-08-01"),  # began August 1, 2025: after July 4, 2025
])
def test_the_2025_act_rules_read_the_first_day_of_the_taxable_year(ruleset, tmp_path, year_end, outcome, begins):
    run = compute(*load([CATALOG], _sales(tmp_path, "2026-03-01"), ruleset), ruleset, year_end=year_end)
    (sheet,) = run.worksheets
    records = [a.record for a in sheet.amounts] + [r.record for r in sheet.rejected] + [p.record for p in sheet.pending]
    (record,) = records
    assert record.outcome == outcome and record.dates.taxable_year_begins.isoformat() == begins


def test_sales_are_grouped_by_the_taxable_year_they_fall_in(ruleset, tmp_path):
    run = compute(*load([CATALOG], _sales(tmp_path, "2026-06-30", "2026-07-01"), ruleset), ruleset, year_end=6)
    assert [(s.tax_year.start.isoformat(), s.tax_year.end.isoformat()) for s in run.worksheets] == \
        [("2025-07-01", "2026-06-30"), ("2026-07-01", "2027-06-30")]


def test_the_cli_takes_a_fiscal_year_by_its_days_or_by_its_year_and_last_month(tmp_path):
    sales = _sales(tmp_path, "2025-06-30", "2025-07-01", "2026-06-30")
    base = ["credit", "--catalog", str(CATALOG), "--sales", str(sales)]
    by_days = CliRunner().invoke(main, [*base, "--tax-year", "2025-07-01..2026-06-30"])
    by_month = CliRunner().invoke(main, [*base, "--tax-year", "2025", "--year-end", "6"])
    assert by_days.exit_code == 0, by_days.output
    assert "tax year beginning 2025-07-01, ending 2026-06-30" in by_days.output
    assert "1 sale(s) fall outside tax year beginning 2025-07-01, ending 2026-06-30" in by_days.output
    assert by_month.output == by_days.output
    bad = CliRunner().invoke(main, [*base, "--tax-year", "2025-07-01..2027-06-30"])
    assert bad.exit_code == 2 and "at most 53 weeks" in bad.output and "Traceback" not in bad.output
