"""Malformed values, each an error for its own row (never a crash, never a silent misread): a
timestamp or a number where a date is expected, numbers outside a quantity's declared range (huge,
negative, too fine), decimal commas, apparent power for a real-power fact, JSON's NaN and Infinity.
Each case goes through the command line; the rows around it are decided, and rows in = records + errors."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ampc.cli import main

ROOT = Path(__file__).resolve().parent.parent
CREDIT_CATALOG = ROOT / "examples" / "credit" / "catalog.yaml"

# a 100 kW commercial inverter, 600 V three-phase, that qualifies for line 3c (examples/catalog.csv)
INVERTER = {
    "component": "inverter", "is_end_product": "yes", "converts_dc_to_ac": "yes", "dc_source": "solar_module",
    "suitable_for": "commercial", "phase": "three", "rated_output_voltage": "600 V", "ac_capacity": "100 kW",
    "connects_to_one_module": "no", "used_with_certified_distributed_wind": "no", "produced_in": "United States",
    "sold_in_trade_or_business": "yes", "sold_to_related_person": "no", "related_person_election": "no",
    "integrated_into_component_sold_to_unrelated": "no", "facility_48c_credit_taken": "no",
    "production_date": "2025-03-01", "sale_date": "2025-04-01",
}
BATTERY = {"component": "battery_cell", "electrochemical_cell": "yes", "has_positive_electrode": "yes",
           "has_negative_electrode": "yes", "rated_capacity": "12 kWh", "max_discharge": "6 kW"}
GOOD_SALE = {"facility": "PLANT-A", "product": "CELL-TF-100", "units": "500", "sale_date": "2025-02-10"}


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Decimal(" not in result.output and "datetime.d" not in result.output  # no Python repr
    return result


def csv_text(rows: list[dict]) -> str:
    header = list(dict.fromkeys(k for row in rows for k in row))
    lines = [",".join(header)] + [",".join(_cell(row.get(k, "")) for k in header) for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    text = str(value)
    return f'"{text}"' if "," in text else text


def classify(path: Path, rows: int, *options: str) -> tuple[dict, dict]:
    """Decide the catalog at path: (decisions, errors), each by product id; every row is one or the other."""
    result = run("classify", path, "--format", "jsonl", "-q", "--as-of", "2025-06-30", *options)
    out = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(out) == rows, result.output  # rows in = records + errors
    errors = {r["product"]: r["error"] for r in out if r["record"] == "error"}
    decisions = {r["product"]: r for r in out if r["record"] != "error"}
    assert result.exit_code == (1 if errors else 0), result.output
    return decisions, errors


def catalog(tmp_path: Path, rows: list[dict], suffix: str = ".csv") -> Path:
    path = tmp_path / f"catalog{suffix}"
    rows = [{"product": f"P{n}", **row} for n, row in enumerate(rows)]
    if suffix == ".csv":
        path.write_text(csv_text(rows))
    elif suffix == ".json":
        path.write_text(json.dumps(rows))
    else:
        path.write_text(yaml.safe_dump(rows, sort_keys=False))
    return path


def credit(tmp_path: Path, sales: list[dict] | str, suffix: str = ".csv",
           products: Path = CREDIT_CATALOG) -> tuple[dict, dict, list]:
    """The worksheet of the sales against the credit example's catalog: (data, errors by row, computed)."""
    path = tmp_path / f"sales{suffix}"
    if isinstance(sales, str):
        path.write_text(sales)
    elif suffix == ".csv":
        path.write_text(csv_text(sales))
    else:
        path.write_text(yaml.safe_dump(sales, sort_keys=False))
    result = run("credit", "--catalog", products, "--sales", path, "--format", "json")
    data = json.loads(result.stdout)
    # by row: 'row 3' (CSV) or 'product #2' (JSON, YAML)
    errors = {re.sub(r" \(line \d+\)", "", e["where"].removeprefix(f"{path} ").split(",")[0]): e
              for e in data["errors"]}
    computed = [s for w in data["worksheets"] for s in w["sales"]]
    decided = sum(len(w[k]) for w in data["worksheets"] for k in ("sales", "rejected", "undetermined"))
    rows = len(sales) if not isinstance(sales, str) else (
        len(json.loads(sales)) if suffix == ".json" else len(sales.splitlines()) - 1)
    assert decided + len(data["errors"]) + len(data["outside_tax_year"]) == rows  # rows in = results + errors
    assert result.exit_code == (1 if errors else 0), result.output
    return data, errors, computed


def assert_error(error: dict, key: str, *words: str, fix: tuple[str, ...] = ()) -> None:
    assert error["key"] == key and error["where"].endswith(key), error
    for word in words:
        assert word in error["message"], error
    assert error["fix"] and all(w in error["fix"] for w in fix), error


# --- 1, 2: a date is a day, written YYYY-MM-DD -----------------------------------------------------

def test_a_yaml_timestamp_where_a_date_is_expected_is_refused_for_its_row(tmp_path):
    path = tmp_path / "catalog.yaml"
    good = "\n".join(f"  {k}: {v}" for k, v in INVERTER.items())
    path.write_text(f"- product: GOOD\n{good}\n"
                    f"- product: TIMED\n{good.replace('sale_date: 2025-04-01', 'sale_date: 2025-04-01 10:30:00')}\n"
                    f"- product: MIDNIGHT\n{good.replace('sale_date: 2025-04-01', 'sale_date: 2025-04-01 00:00:00')}\n"
                    f"- product: AS_OF\n{good}\n  as_of: 2025-06-30 12:00:00\n")
    decisions, errors = classify(path, 4)
    assert decisions["GOOD"]["outcome"] == "qualified" and decisions["GOOD"]["line"] == "3c"
    assert_error(errors["TIMED"], "sale_date", "'2025-04-01 10:30:00' is a date and a time, not a date",
                 fix=("write the date alone, YYYY-MM-DD",))
    # a timestamp at midnight is refused too: a YAML date is written without a time
    assert_error(errors["MIDNIGHT"], "sale_date", "'2025-04-01 00:00:00'", fix=("the date alone",))
    assert_error(errors["AS_OF"], "as_of", "as_of '2025-06-30 12:00:00' is a date and a time",
                 fix=("YYYY-MM-DD",))


def test_a_yaml_ledger_with_a_timestamp_sale_date_is_an_error_for_that_sale(tmp_path):
    timed = {**GOOD_SALE, "sale_date": dt.datetime(2025, 2, 10, 10, 30)}
    data, errors, computed = credit(tmp_path, [GOOD_SALE, timed], ".yaml")
    assert_error(errors["product #2"], "sale_date", "'2025-02-10 10:30:00' is a date and a time",
                 fix=("write the date alone, YYYY-MM-DD",))
    assert [s["sale"]["product"] for s in computed] == ["CELL-TF-100"]


def test_an_xlsx_date_cell_is_a_date_and_a_time_of_day_is_refused(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    header = ["product", *INVERTER]
    sheet.append(header)
    at = header.index("sale_date")
    for product, when in (("DAY", dt.date(2025, 4, 1)), ("MIDNIGHT", dt.datetime(2025, 4, 1)),
                          ("TIMED", dt.datetime(2025, 4, 1, 10, 30))):
        row = [product, *INVERTER.values()]
        row[at] = when
        sheet.append(row)
    path = tmp_path / "catalog.xlsx"
    book.save(path)
    decisions, errors = classify(path, 3)
    assert decisions["DAY"]["line"] == decisions["MIDNIGHT"]["line"] == "3c"  # a date cell is stored at midnight
    assert_error(errors["TIMED"], "sale_date", "'2025-04-01 10:30:00' is a date and a time",
                 fix=("write the date alone",))


def test_a_number_where_a_date_is_expected_is_refused(tmp_path):
    rows = [{**INVERTER}, {**INVERTER, "sale_date": 20250401}, {**INVERTER, "sale_date": 2025.0401},
            {**INVERTER, "production_date": "20250301"}]
    decisions, errors = classify(catalog(tmp_path, rows, ".json"), len(rows))
    assert decisions["P0"]["line"] == "3c"
    assert_error(errors["P1"], "sale_date", "20250401 is a number, not a date", fix=("YYYY-MM-DD",))
    assert_error(errors["P2"], "sale_date", "2025.0401 is a number, not a date", fix=("YYYY-MM-DD",))
    # text that is not YYYY-MM-DD is not read in another format
    assert_error(errors["P3"], "production_date", "'20250301' is not a date", fix=("YYYY-MM-DD",))


def test_a_json_ledger_with_a_number_for_its_sale_date_is_an_error_for_that_sale(tmp_path):
    sales = json.dumps([GOOD_SALE, {**GOOD_SALE, "sale_date": 20250210}])
    data, errors, computed = credit(tmp_path, sales, ".json")
    assert_error(errors["product #2"], "sale_date", "20250210 is a number, not a date", fix=("YYYY-MM-DD",))
    assert len(computed) == 1


# --- 3, 4: every quantity within its declared range --------------------------------------------------

FIVE_THOUSAND_DIGITS = "9" * 5000


@pytest.mark.parametrize("value,words", [
    ("1" + "0" * 39, ["'1000000000000000000000000000000000000000' is above units' maximum of 1,000,000,000,000"]),
    (FIVE_THOUSAND_DIGITS, ["'999999999999999999999999...", "(5,000 characters) is above units' maximum"]),
    ("1e400", ["'1e400' is above units' maximum of 1,000,000,000,000"]),
    ("1000000000001", ["above units' maximum of 1,000,000,000,000"]),  # just outside
    ("-5", ["'-5' is below units' minimum of 0"]),
    ("-0.5", ["below units' minimum of 0"]),
], ids=["40 digits", "5,000 digits", "1e400", "just above", "negative", "just below"])
def test_units_outside_their_range_are_an_error_for_their_sale(tmp_path, value, words):
    data, errors, computed = credit(tmp_path, [GOOD_SALE, {**GOOD_SALE, "units": value}])
    assert_error(errors["row 3"], "units", *words, fix=("give units from 0 to 1,000,000,000,000",))
    assert len(computed) == 1 and computed[0]["base"]["amount"]["value"] == "50000"


def test_units_at_the_bounds_of_their_range_are_computed(tmp_path):
    sales = [{**GOOD_SALE, "units": "1,000,000,000,000"}, {**GOOD_SALE, "units": "999999999999"},
             {**GOOD_SALE, "units": "0"}]
    data, errors, computed = credit(tmp_path, sales)
    assert not errors
    # 10**12 cells of 100 W at $0.04 a watt, to the cent
    assert [s["credit"] for s in computed] == ["4000000000000", "3999999999996", "0"]


@pytest.mark.parametrize("column,value,words", [
    ("costs", "1e400 USD", ["'1e400 USD' is above costs' maximum of 10,000,000,000,000 USD"]),
    ("costs", "10000000000000.01 USD", ["above costs' maximum of 10,000,000,000,000 USD"]),
    ("costs", "-1 USD", ["'-1 USD' is below costs' minimum of 0 USD"]),
    ("turbine_capacity", "1e400 W", ["'1e400 W' is above turbine_capacity's maximum of 100,000,000,000 W"]),
    ("turbine_capacity", "100.000000001 GW", ["above turbine_capacity's maximum of 100,000,000,000 W"]),
    ("turbine_capacity", "-6 MW", ["'-6 MW' is below turbine_capacity's minimum of 0 W"]),
    ("sales_price", "-0.01 USD", ["below sales_price's minimum of 0 USD"]),
], ids=["costs 1e400", "costs just above", "costs negative", "turbine 1e400", "turbine just above",
        "turbine negative", "price negative"])
def test_ledger_amounts_outside_their_range_are_an_error_for_their_sale(tmp_path, column, value, words):
    blade = {"facility": "PLANT-A", "product": "BLADE-6MW", "units": "3", "sale_date": "2025-06-01",
             "turbine_capacity": "6 MW"}
    data, errors, computed = credit(tmp_path, [GOOD_SALE, blade, {**blade, column: value}])
    assert_error(errors["row 4"], column, *words, fix=(f"give {column} from 0",))
    assert [s["sale"]["product"] for s in computed] == ["CELL-TF-100", "BLADE-6MW"]


def test_ledger_amounts_at_the_bounds_of_their_range_are_computed(tmp_path):
    blade = {"facility": "PLANT-A", "product": "BLADE-6MW", "units": "3", "sale_date": "2025-06-01"}
    sales = [{**blade, "turbine_capacity": "100 GW"}, {**blade, "turbine_capacity": "99999999999.999999999999999999 W"},
             {**blade, "turbine_capacity": "0 W"},
             {"facility": "PLANT-A", "product": "LI-OH", "units": "1", "sale_date": "2025-09-01",
              "production_date": "2025-06-30", "costs": "10,000,000,000,000 USD"}]
    data, errors, computed = credit(tmp_path, sales)
    assert not errors, errors
    assert [s["credit"] for s in computed] == ["6000000000", "5999999999.99999999999999999994", "0",
                                                        "1000000000000"]


def test_the_largest_amounts_the_ranges_allow_are_computed_exactly(tmp_path):
    # a module of just under 100 GW, sold just under 10**12 times: 41 digits of watts, more than
    # decimal's default 28; computed and rounded to the cent without losing a digit
    products = yaml.safe_load(CREDIT_CATALOG.read_text())["products"]
    [module] = [p for p in products if p["product"] == "MOD-100"]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump([{**module, "dc_capacity": "99999999999.999999999999999999 W"}]))
    sale = {"facility": "PLANT-A", "product": "MOD-100", "units": "999,999,999,999", "sale_date": "2025-04-01"}
    data, errors, computed = credit(tmp_path, [sale], products=path)
    assert not errors
    [amount] = computed
    assert amount["base"]["amount"]["value"] == "99999999999899999999999.999999000000000001"
    assert amount["credit"] == "6999999999992999999999.99999993000000000007"
    [line_1e] = [line for line in data["worksheets"][0]["part_ii"] if line["line"] == "1e"]
    assert line_1e["credit"]["cents"] == "6999999999993000000000.00"  # half up


def test_a_total_of_many_of_the_largest_sales_is_rounded_to_the_cent(tmp_path):
    # 15,000 sales of 10**12 modules of 100 GW: $1.05 x 10**26, more whole digits than decimal's
    # default 28 leave room for cents in
    products = yaml.safe_load(CREDIT_CATALOG.read_text())["products"]
    [module] = [p for p in products if p["product"] == "MOD-100"]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump([{**module, "dc_capacity": "100 GW"}]))
    sale = "PLANT-A,MOD-100,1000000000000,2025-04-01\n"
    data, errors, computed = credit(tmp_path, "facility,product,units,sale_date\n" + sale * 15_000, products=path)
    [line_1e] = [line for line in data["worksheets"][0]["part_ii"] if line["line"] == "1e"]
    assert line_1e["credit"] == {"exact": "105000000000000000000000000", "cents": "105000000000000000000000000.00",
                                 "whole_dollars": "105000000000000000000000000"}


RANGE_CASES = [
    # (column, value, words in the message); the bound is named in the fact's unit
    ("ac_capacity", "1e400 W", "'1e400 W' is above ac_capacity's maximum of 100,000,000,000 W"),
    ("ac_capacity", FIVE_THOUSAND_DIGITS + " W", "(5,002 characters) is above ac_capacity's maximum"),
    ("ac_capacity", "100000000000.000000000000000001 W", "above ac_capacity's maximum of 100,000,000,000 W"),
    ("ac_capacity", "-2 MW", "'-2 MW' is below ac_capacity's minimum of 0 W"),
    ("ac_capacity", "-0.000000000000000001 W", "below ac_capacity's minimum of 0 W"),
    ("rated_output_voltage", "-600 V", "'-600 V' is below rated_output_voltage's minimum of 0 V"),
    ("unit_mass", "-1 kg", "'-1 kg' is below unit_mass' minimum of 0 kg"),
    ("unit_mass", "1000000.001 t", "above unit_mass' maximum of 1,000,000,000 kg"),
    ("unit_area", "-2 m**2", "below unit_area's minimum of 0 m²"),
    ("wafer_area", "1e400 cm**2", "above wafer_area's maximum of 1,000,000 cm²"),
    ("total_direct_material_costs", "-5 USD", "below total_direct_material_costs' minimum of 0 USD"),
    ("total_direct_material_costs", "1e400 USD", "above total_direct_material_costs' maximum of "
                                                 "10,000,000,000,000 USD"),
    ("purity", "100.1 %", "'100.1 %' is above purity's maximum of 100 %"),
    ("battery_cell_count", "-1", "'-1' is below battery_cell_count's minimum of 0"),
    ("max_discharge", "1e400 kW", "above max_discharge's maximum of 100,000,000 kW"),
    ("rated_capacity", "-12 kWh", "below rated_capacity's minimum of 0 kWh"),
]


def test_catalog_quantities_outside_their_range_are_an_error_for_their_row(tmp_path):
    rows = [INVERTER] + [{**INVERTER, column: value} for column, value, _ in RANGE_CASES]
    decisions, errors = classify(catalog(tmp_path, rows), len(rows))
    assert list(decisions) == ["P0"] and decisions["P0"]["line"] == "3c"
    for n, (column, _value, words) in enumerate(RANGE_CASES, start=1):
        assert_error(errors[f"P{n}"], column, words, fix=(f"give {column} from ", "check the number and its unit"))


def test_catalog_quantities_at_the_bounds_of_their_range_are_decided(tmp_path):
    rows = [{**INVERTER, "ac_capacity": "100 GW"}, {**INVERTER, "ac_capacity": "99999999999.999999999999999999 W"},
            {**INVERTER, "ac_capacity": "0 W"}, {**INVERTER, "purity": "100 %"},
            {**INVERTER, "unit_mass": "1,000,000,000 kg"}, {**INVERTER, "rated_output_voltage": "10 MV"}]
    decisions, errors = classify(catalog(tmp_path, rows), len(rows))
    assert not errors, errors
    assert decisions["P3"]["line"] == decisions["P4"]["line"] == "3c"


def test_huge_json_numbers_are_an_error_for_their_row(tmp_path):
    path = tmp_path / "catalog.json"
    good = json.dumps({"product": "GOOD", **INVERTER})
    path.write_text("[" + ", ".join([
        good,
        good.replace('"GOOD"', '"E400"').replace('"100 kW"', "1e400"),
        good.replace('"GOOD"', '"DIGITS"').replace('"100 kW"', FIVE_THOUSAND_DIGITS),  # past the int-string limit
        good.replace('"GOOD"', '"VALUE"').replace('"100 kW"', '{"value": 1e999999999, "unit": "kW"}'),
    ]) + "]")
    decisions, errors = classify(path, 4)
    assert decisions["GOOD"]["line"] == "3c"
    assert_error(errors["E400"], "ac_capacity", "1E+400 is above ac_capacity's maximum of 100,000,000,000 W")
    assert_error(errors["DIGITS"], "ac_capacity", "(5,000 characters) is above ac_capacity's maximum")
    assert_error(errors["VALUE"], "ac_capacity", "{value: 1E+999999999, unit: 'kW'} is above")


# the places are counted in the fact's unit: 10**-22 kW is 10**-19 W
@pytest.mark.parametrize("value", ["1e-400 W", "0.0000000000000000000001 kW", "1.0000000000000000000000000000001 W"])
def test_a_value_finer_than_the_places_compared_is_refused_not_rounded(tmp_path, value):
    # read to 28 digits, 1.0000000000000000000000000000001 W would be 1 W and meet "not greater than 1 W"
    rows = [INVERTER, {**INVERTER, "ac_capacity": value}]
    decisions, errors = classify(catalog(tmp_path, rows), len(rows))
    assert decisions["P0"]["line"] == "3c"
    assert_error(errors["P1"], "ac_capacity", f"'{value}' has more decimal places than are compared exactly",
                 fix=("round ac_capacity to at most 18 decimal places in W",))


def test_a_value_at_the_places_compared_is_read_exactly(tmp_path):
    rows = [{**INVERTER, "ac_capacity": "125000.000000000000000001 W"}, {**INVERTER, "ac_capacity": "125 kW"}]
    decisions, errors = classify(catalog(tmp_path, rows), 2, "--detail", "full")
    assert [decisions[p]["facts"]["ac_capacity"]["value"] for p in ("P0", "P1")] == ["125000.000000000000000001",
                                                                                      "125000"]
    assert [decisions[p]["classified_line"] for p in ("P0", "P1")] == ["3b", "3c"]  # just above 125 kW: not 3c


def test_a_unit_whose_factor_is_rounded_is_not_refused_for_its_places(tmp_path):
    # a kJ is 1/3600 kWh, a factor with no finite decimal: 25,200 kJ is 7 kWh, not 7.0000...0007 kWh
    rows = [{**BATTERY, "rated_capacity": "25200 kJ"}, {**BATTERY, "rated_capacity": "7 kWh"}]
    decisions, errors = classify(catalog(tmp_path, rows), 2, "--detail", "full")
    assert not errors, errors
    assert {Decimal(decisions[p]["facts"]["rated_capacity"]["value"]) for p in ("P0", "P1")} == {Decimal(7)}


# --- 5: a comma only between groups of three digits --------------------------------------------------

def test_a_decimal_comma_is_refused_as_ambiguous(tmp_path):
    rows = [INVERTER, {**INVERTER, "ac_capacity": "0,125 MW"}, {**INVERTER, "ac_capacity": "1,5 kW"},
            {**INVERTER, "ac_capacity": "12,34,567 W"}, {**INVERTER, "ac_capacity": "1.250,5 kW"},
            {**INVERTER, "ac_capacity": "0,125"}, {**INVERTER, "ac_capacity": "1,250 W"},
            {**INVERTER, "ac_capacity": "12,345,678.5 W"}]
    decisions, errors = classify(catalog(tmp_path, rows), len(rows), "--detail", "full")
    assert_error(errors["P1"], "ac_capacity", "'0,125 MW' is ambiguous", "decimal comma",
                 fix=("write 0.125 MW with a decimal point, or 125 kW",))
    assert_error(errors["P2"], "ac_capacity", "'1,5 kW' is ambiguous", fix=("write 1.5 kW with a decimal point",))
    assert_error(errors["P3"], "ac_capacity", "'12,34,567 W' is ambiguous", fix=("groups of three digits",))
    assert_error(errors["P4"], "ac_capacity", "'1.250,5 kW' is ambiguous", fix=("a point for its decimals",))
    assert_error(errors["P5"], "ac_capacity", "'0,125' is ambiguous", fix=("write 0.125 with a decimal point",))
    # a comma between groups of three digits separates thousands
    assert decisions["P0"]["classified_line"] == "3c"
    assert [decisions[p]["facts"]["ac_capacity"]["value"] for p in ("P6", "P7")] == ["1250", "12345678.5"]


def test_a_thousands_comma_is_read_and_a_decimal_comma_refused_in_the_ledger(tmp_path):
    sales = [{**GOOD_SALE, "units": "1,250"}, {**GOOD_SALE, "units": "1,5"}, {**GOOD_SALE, "units": "0,5"}]
    data, errors, computed = credit(tmp_path, sales)
    assert_error(errors["row 3"], "units", "'1,5' is ambiguous", fix=("write 1.5 with a decimal point",))
    assert_error(errors["row 4"], "units", "'0,5' is ambiguous", fix=("write 0.5 with a decimal point",))
    assert [s["base"]["amount"]["value"] for s in computed] == ["125000"]  # 1,250 cells x 100 W


# --- 6: apparent power is not real power, for every real-power fact ----------------------------------

def test_apparent_power_is_refused_for_every_real_power_fact(tmp_path):
    cases = [("ac_capacity", "125 kVA", INVERTER), ("max_discharge", "25 kVA", BATTERY),
             ("dc_capacity", "400 VA", INVERTER), ("max_discharge", "0.025 MVA", BATTERY),
             ("rated_capacity", "12 kVA*h", BATTERY)]
    rows = [INVERTER, BATTERY] + [{**base, column: value} for column, value, base in cases]
    decisions, errors = classify(catalog(tmp_path, rows), len(rows))
    assert set(decisions) == {"P0", "P1"}
    for n, (column, value, _) in enumerate(cases, start=2):
        unit = value.split()[1]
        assert_error(errors[f"P{n}"], column, f"'{unit}' is apparent power (volt-amperes), not real power",
                     "VA equals W only at unity power factor", fix=("give the value in",))
    assert errors["P3"]["fix"] == "give the value in kW (or another multiple of W), not in kVA"


def test_apparent_power_written_as_volts_times_amperes_is_refused(tmp_path):
    """V*A is the volt-ampere by another spelling: refused as kVA is; V/A (an ohm) is not a power at all."""
    written = [("ac_capacity", "125 V*A", INVERTER), ("ac_capacity", "125 kV*A", INVERTER),
               ("ac_capacity", "125 kV A", INVERTER), ("rated_capacity", "12 kV*A*h", BATTERY)]
    rows = [INVERTER, {**INVERTER, "ac_capacity": "125000 W"}] + [{**base, key: v} for key, v, base in written] + [
        {**INVERTER, "ac_capacity": "125 V/A"}]
    decisions, errors = classify(catalog(tmp_path, rows), len(rows))
    assert set(decisions) == {"P0", "P1"}
    assert decisions["P1"]["line"] == decisions["P0"]["line"] == "3c"
    for n, (key, value, _) in enumerate(written, start=2):
        assert_error(errors[f"P{n}"], key, f"'{value.split(' ', 1)[1]}' is apparent power (volt-amperes)")
    assert_error(errors["P6"], "ac_capacity", "'V/A' measures electric resistance, not power (W)")


@pytest.mark.parametrize("value", ["5 W/0", "5 (W", "5 W/", "5 **", "5 kW)"])
def test_a_unit_that_cannot_be_parsed_is_an_error_for_its_row(tmp_path, value):
    rows = [INVERTER, {**INVERTER, "ac_capacity": value}]
    decisions, errors = classify(catalog(tmp_path, rows), len(rows))
    assert set(decisions) == {"P0"}
    assert_error(errors["P1"], "ac_capacity", f"unknown unit '{value.split(' ', 1)[1]}'", fix=("kW",))


@pytest.mark.parametrize("invisible", ["\u200b", "\u2060", "\ufeff", "\u00a0"])
def test_an_invisible_character_in_a_quantity_is_no_part_of_it(tmp_path, invisible):
    rows = [INVERTER, {**INVERTER, "ac_capacity": f"{invisible}100{invisible} kW"},
            {**INVERTER, "ac_capacity": f"100 kW{invisible}"}]
    decisions, errors = classify(catalog(tmp_path, rows), len(rows))
    assert not errors
    assert {p: d["line"] for p, d in decisions.items()} == {"P0": "3c", "P1": "3c", "P2": "3c"}


def test_apparent_power_in_the_ledger_is_refused_for_a_turbine_capacity(tmp_path):
    blade = {"facility": "PLANT-A", "product": "BLADE-6MW", "units": "3", "sale_date": "2025-06-01"}
    data, errors, computed = credit(tmp_path, [{**blade, "turbine_capacity": "6 MW"},
                                               {**blade, "turbine_capacity": "6 MVA"}])
    assert_error(errors["row 3"], "turbine_capacity", "'MVA' is apparent power", fix=("give the value in W",))
    assert len(computed) == 1


# --- 7: JSON's NaN and Infinity literals --------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_nan_and_infinity_are_an_error_for_their_row(tmp_path, suffix):
    good = json.dumps({"product": "GOOD", **INVERTER})
    items = [good,
             good.replace('"GOOD"', '"NAN"').replace('"100 kW"', "NaN"),
             good.replace('"GOOD"', '"INF"').replace('"100 kW"', "Infinity"),
             good.replace('"GOOD"', '"NEGINF"').replace('"100 kW"', "-Infinity"),
             good.replace('"GOOD"', '"ENUM"').replace('"three"', "NaN"),
             good.replace('"GOOD"', '"BOOL"').replace('"is_end_product": "yes"', '"is_end_product": NaN'),
             good.replace('"GOOD"', '"INUNIT"').replace('"100 kW"', '{"value": NaN, "unit": "kW"}')]
    path = tmp_path / f"catalog{suffix}"
    path.write_text("[" + ",\n".join(items) + "]" if suffix == ".json" else "\n".join(items) + "\n")
    decisions, errors = classify(path, len(items))
    assert list(decisions) == ["GOOD"] and decisions["GOOD"]["line"] == "3c"
    for product, key, value in (("NAN", "ac_capacity", "NaN"), ("INF", "ac_capacity", "Infinity"),
                                ("NEGINF", "ac_capacity", "-Infinity"), ("ENUM", "phase", "NaN"),
                                ("BOOL", "is_end_product", "NaN")):
        assert_error(errors[product], key, f"{value} is not a finite number", fix=("finite value",))
    assert_error(errors["INUNIT"], "ac_capacity", "{value: NaN, unit: 'kW'} is not a finite number")


def test_a_json_ledger_with_nan_units_is_an_error_for_that_sale(tmp_path):
    sales = json.dumps([GOOD_SALE, {**GOOD_SALE, "units": "X"}]).replace('"X"', "NaN")
    data, errors, computed = credit(tmp_path, sales, ".json")
    assert_error(errors["product #2"], "units", "NaN is not a finite number", fix=("finite value",))
    assert len(computed) == 1


def test_a_yaml_integer_of_5000_digits_is_an_error_for_its_row(tmp_path):
    from click.testing import CliRunner

    from ampc.cli import main
    path = tmp_path / "c.yaml"
    path.write_text("products:\n  - {product: A, component: inverter, ac_capacity: " + "9" * 5000 + "}\n"
                    "  - {product: B, component: inverter}\n")
    result = CliRunner().invoke(main, ["classify", str(path), "--format", "jsonl", "-q"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["record"] for r in records] == ["error", "decision"]
    assert "above ac_capacity's maximum" in records[0]["error"]["message"]
