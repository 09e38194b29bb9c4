"""Column (d) of every Part II line is in the unit of its line's rate: square meters for the wafers'
$12 per square meter (not square centimeters), kilowatt hours for battery cells, watts for the
capacity lines, dollars where the rate is a percentage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ampc.credit.compute import base_unit, compute, figure_base, load
from ampc.io.catalog import Row
from ampc.rules.model import When

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "part_ii" / "line_01_solar.yaml"
EXPECTED = {"1a": "W", "1b": "m**2", "1c": "kg", "1d": "m**2", "1e": "W", "1f": "kg", "1g": "kg", "2a": "USD",
            "2b": "W", "2c": "W", "2d": "W", "2e": "W", "2f": "W", "3a": "W", "3b": "W", "3c": "W", "3d": "W",
            "3e": "W", "3f": "W", "4a": "USD", "5a": "kWh", "5b": "kWh", "5c": "kWh", "6a": "USD", "6b": "USD"}
WHEN = When(dt.date(2025, 6, 30), dt.date(2025, 3, 1), dt.date(2025, 1, 1))


def test_every_line_is_listed(ruleset):
    assert set(ruleset.credits) == set(EXPECTED)


@pytest.mark.parametrize("line", sorted(EXPECTED))
def test_column_d_is_in_the_unit_of_the_line_rate(ruleset, line):
    credit = ruleset.credits[line]
    assert base_unit(ruleset, credit) == EXPECTED[line]
    spec = credit.base
    facts: dict = {}
    sale: dict = {}
    for key in ("units_times_fact", "capped_by"):
        if key in spec:
            name = spec[key] if key == "units_times_fact" else spec[key]["fact"]
            facts[name] = Decimal(3)  # in the fact's own canonical unit
    for key in ("column", "units_times_column"):
        if key in spec:
            sale[spec[key]] = Decimal(5)
    base = figure_base(ruleset, credit, Row("test", 1, "P", facts=facts), sale, Decimal(2), WHEN)
    assert base.amount.unit == EXPECTED[line]


def test_wafers_are_counted_in_square_meters_at_twelve_dollars_each(ruleset, tmp_path):
    defaults = yaml.safe_load(CASES.read_text())["defaults"]["facts"]
    wafer = dict(defaults, product="WAFER-662", component="photovoltaic_wafer", wafer_area="662.48 cm2")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump([wafer]))
    sales = tmp_path / "sales.csv"
    sales.write_text("facility,product,units,sale_date\nPLANT,WAFER-662,500,2025-06-30\n")
    run = compute(*load([catalog], sales, ruleset), ruleset)
    assert not run.errors, run.errors
    total = run.worksheets[0].lines["1b"]
    assert total.unit == "m**2" and total.aggregate == Decimal("33.124")  # 500 x 662.48 cm², not 331,240
    assert total.total == Decimal("397.488")  # $12 per square meter
    (amount,) = total.amounts
    assert amount.base.per_unit.unit == "cm**2" and amount.base.per_unit.value == Decimal("662.48")
