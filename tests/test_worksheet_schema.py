"""The worksheet's JSON: exactly the typed WorksheetReport's bytes, valid against the shipped schema
(`ampc schema worksheet`), the same on every run, and with no Python repr in any format."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from ampc.cli import main
from ampc.credit.compute import compute, load
from ampc.credit.worksheet import report
from ampc.records import record as R

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ["credit", "--catalog", str(ROOT / "examples" / "credit" / "catalog.yaml"),
           "--sales", str(ROOT / "examples" / "credit" / "sales.csv"), "--tax-year", "2025"]
REPRS = ("Decimal(", "datetime.date(", "PhaseOut", "Quantity(", "Rate(", "Base(", "Cap(", "Reason(", "Problem(")


@pytest.fixture(scope="module")
def example_json() -> str:
    result = CliRunner().invoke(main, [*EXAMPLE, "--format", "json"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = R.schema("worksheet")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_example_worksheet_validates_against_the_schema(example_json, validator):
    data = json.loads(example_json)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, errors
    # the parts the form needs are there, typed
    assert [w["facility"] for w in data["worksheets"]] == ["PLANT-A", "PLANT-B"]
    plant_b = data["worksheets"][1]
    assert plant_b["line_8a"] == {"exact": "105250", "cents": "105250.00", "whole_dollars": "105250"}
    assert plant_b["part_iv"] == [{"line": "38", "label": "Lithium converted to lithium carbonate or lithium "
                                   "hydroxide", "costs": "250000", "efile": "LithiumConvertedCostsAmt"}] \
        and plant_b["line_74"] == "250000"
    capped = next(s for s in plant_b["sales"] if s["sale"]["product"] == "CELL-LONG")
    assert capped["base"]["cap"]["counted"] == {"type": "quantity", "value": "10", "unit": "kWh"}
    assert capped["base"]["cap"]["rated"] == {"type": "quantity", "value": "12", "unit": "kWh"}
    booked = next(s for s in plant_b["sales"] if s["sale"]["product"] == "INV-1KW")
    assert booked["claimed"] == {"claimed": "3a", "met": "3d"}
    [rejected] = data["worksheets"][0]["rejected"]
    assert rejected["decision"]["outcome"] == "rejected"
    assert rejected["decision"]["reason"] == {"kind": "requirement_fails",
                                              "rules": ["qualify.produced_in_united_states"],
                                              "family": "solar_module", "winner": None}
    assert rejected["base"] == {"type": "quantity", "value": "20000", "unit": "W"}
    assert data["software"] == R.to_builtins(R.software())


@pytest.mark.parametrize("path,value", [
    (("worksheets", 0, "line_8a", "cents"), 981700.0),  # a number, not an exact decimal string
    (("worksheets", 0, "part_ii", 0, "aggregate", "unit"), None),
    (("worksheets", 0, "rejected", 0, "decision", "reason", "kind"), "rejected for no reason"),
    (("worksheets", 0, "colour"), "blue"),  # an unknown key
], ids=["money as a float", "quantity without unit", "unknown reason kind", "unknown key"])
def test_the_schema_refuses_a_worksheet_that_is_not_one(example_json, validator, path, value):
    data = copy.deepcopy(json.loads(example_json))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not validator.is_valid(data)


def test_the_json_is_the_reports_bytes_and_the_same_on_every_run(ruleset, example_json):
    catalog, ledger = load([ROOT / "examples" / "credit" / "catalog.yaml"], ROOT / "examples" / "credit" / "sales.csv",
                           ruleset)
    typed = report(compute(catalog, ledger, ruleset, 2025), ruleset)
    assert example_json == R.encode(typed).decode() + "\n"
    again = CliRunner().invoke(main, [*EXAMPLE, "--format", "json"]).output
    assert again == example_json


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown"])
def test_no_python_repr_reaches_the_worksheet(fmt):
    output = CliRunner().invoke(main, [*EXAMPLE, "--format", fmt]).output
    explained = CliRunner().invoke(main, [*EXAMPLE, "--explain", "5a"]).output
    for text in (output, explained):
        assert not [r for r in REPRS if r in text]
