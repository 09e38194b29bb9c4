"""`ampc rules diff`: the changelog of two rule sets without a catalog (rules, parameters, credit
lines, facts and precedences added, removed or changed, with old and new values), and over a catalog
the clauses whose verdict changed and the credit at stake over a ledger."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from ampc.analysis.changelog import Changelog, Condition, Period, changelog
from ampc.analysis.diff import diff, resolve
from ampc.cli import main
from ampc.records import record as R
from ampc.rules.model import RuleSet
from caselib import copy_rule_set

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "catalog.csv"
INVERTERS = Path("rules") / "part_ii" / "line_03_inverters.yaml"
VOLTAGE = "inverter.utility.min_voltage"


def load(spec) -> RuleSet:
    return resolve(str(spec))[0]


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["rules", "diff", *map(str, args)])
    return result.exit_code, result.output


def edited(tmp_path: Path, old: str, new: str, name: str = "rules") -> Path:
    """A copy of the bundled rule set with one piece of the inverters file replaced."""
    root = copy_rule_set(tmp_path / name)
    path = root / INVERTERS
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def editions() -> Changelog:
    (old, old_label), (new, new_label) = resolve("2024-01"), resolve("current")
    return changelog(old, new, (old_label, new_label))


@pytest.fixture
def higher_voltage(tmp_path) -> Path:
    """The utility inverter's voltage floor raised from 600 V to 700 V."""
    return edited(tmp_path, "values: {2023-01-01: 600 V}", "values: {2023-01-01: 700 V}")


# ---------------------------------------------------------------------------------------------------
# the changelog between the editions: what Pub. L. 119-21 changed

def test_the_2025_act_adds_line_6b_and_the_wind_termination(editions):
    coal = editions.entry("rule", "coal.metallurgical")
    assert coal is not None and (coal.change, coal.line) == ("added", "6b")
    in_force = coal.field_named("in_force")
    assert in_force.old is None and in_force.new == Period("taxable_year", dt.date(2025, 7, 5))
    assert coal.field_named("enacted").new == R.Day(dt.date(2025, 7, 4))
    wind = editions.entry("rule", "termination.wind")
    assert wind.change == "added" and "45X(b)(3)(D)" in wind.cite[0]
    assert editions.entry("credit_line", "6b").change == "added"
    assert not [e for e in editions.entries if e.change == "removed"]  # the act ended rules, it removed none


def test_a_rule_the_act_ended_gains_an_end_date(editions):
    module = editions.entry("rule", "battery.module.with_cells")
    assert module.change == "changed" and [f.field for f in module.fields] == ["in_force"]
    period = module.field_named("in_force")
    assert (period.old.end, period.new.end) == (None, dt.date(2025, 7, 4))


def test_a_renumbered_citation_is_listed_as_amended(editions):
    arsenic = editions.entry("rule", "mineral.arsenic.purified")
    amended = arsenic.field_named("citation_as_amended")
    assert amended.old is None
    (change,) = amended.new.amended
    assert change.after == dt.date(2025, 7, 4) and change.cite == {"irc": "45X(c)(6)(AA)(i)"}


def test_a_parameter_the_act_added_carries_its_dated_values_with_units(editions):
    wind = editions.entry("parameter", "pfe.macr.threshold.wind")
    values = wind.field_named("values").new.values
    assert [(v.start, v.end, v.value) for v in values] == [
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), R.Quantity(Decimal(85), "percent")),
        (dt.date(2027, 1, 1), dt.date(2027, 12, 31), R.Quantity(Decimal(90), "percent")),
        (dt.date(2028, 1, 1), None, None)]  # the law states no threshold from 2028: the credit ends
    phase = editions.entry("credit_line", "6a").field_named("phase_out")
    assert phase.old is None and phase.new.schedules[0].param == "credit.phase_out.critical_minerals"


def test_rules_diff_2024_01_current_prints_the_changelog_without_a_catalog():
    code, out = run("2024-01", "current")
    assert code == 0, out
    summary = out.splitlines()[3]  # after the two rule sets and a blank line: how many of each kind
    assert summary.startswith("rules: ") and " added, " in summary and "; parameters: " in summary
    assert "+ coal.metallurgical  line 6b  Metallurgical coal" in out
    assert "in force: in taxable years beginning from 2025-07-05" in out
    assert "now: in taxable years beginning from 2022-01-01 to 2025-07-04" in out
    assert "85 % (sold from 2026-01-01 to 2026-12-31)" in out
    assert "IRC 45X(c)(6)(AA)(i)" in out


# ---------------------------------------------------------------------------------------------------
# a directory with one threshold changed

def test_one_changed_threshold_is_the_only_entry_with_old_and_new_values(higher_voltage):
    log = changelog(load("current"), load(higher_voltage))
    (entry,) = log.entries
    assert (entry.kind, entry.id, entry.change) == ("parameter", VOLTAGE, "changed")
    (values,) = entry.fields
    assert values.field == "values"
    assert values.old.values[0].value == R.Quantity(Decimal(600), "V")
    assert values.new.values[0].value == R.Quantity(Decimal(700), "V")
    code, out = run("current", higher_voltage)
    assert code == 0
    assert "parameters: 1 changed" in out
    assert f"~ {VOLTAGE}  Utility inverter, minimum rated output voltage" in out
    assert "values: 600 V (sold from 2023-01-01) -> 700 V (sold from 2023-01-01)" in out
    assert "cite: Form 7207 instructions (Rev. 01-2024), Part II, line 3b; IRC 45X(c)(2)(G)(ii)" in out


def test_the_same_threshold_in_another_unit_is_no_change(tmp_path):
    root = edited(tmp_path, "values: {2023-01-01: 600 V}", "values: {2023-01-01: 0.6 kV}")
    code, out = run("current", root)
    assert code == 0 and "no changes" in out


def test_a_value_that_gains_a_date_shows_each_period(tmp_path):
    root = edited(tmp_path, "values: {2023-01-01: 600 V}", "values: {2023-01-01: 600 V, 2027-01-01: 650 V}")
    code, out = run("current", root)
    assert code == 0
    assert "was: 600 V (sold from 2023-01-01)\n" in out
    assert "now: 600 V (sold from 2023-01-01 to 2026-12-31); 650 V (sold from 2027-01-01)\n" in out


def test_a_changed_condition_lists_the_comparison_removed_and_added(tmp_path):
    root = edited(tmp_path, "more_than: {param: inverter.central.min_capacity}",
                  "at_least: {param: inverter.central.min_capacity}")
    entry = changelog(load("current"), load(root)).entry("rule", "inverter.central")
    field = entry.field_named("conditions")
    assert isinstance(field.new, Condition) and [f.field for f in entry.fields] == ["conditions"]
    _, out = run("current", root)
    assert "- all[3]: ac_capacity is greater than parameter inverter.central.min_capacity" in out
    assert "+ all[3]: ac_capacity is not less than parameter inverter.central.min_capacity" in out


def test_identical_rule_sets_have_no_changes(tmp_path):
    code, out = run("current", copy_rule_set(tmp_path / "same"))
    assert code == 0 and "no changes" in out
    code, out = run("current", "current", "--format", "json")
    assert code == 0 and json.loads(out)["entries"] == []


def test_the_json_validates_against_its_own_schema_and_reads_back(higher_voltage):
    code, out = run("2024-01", higher_voltage, "--format", "json")
    assert code == 0
    data = json.loads(out)
    Draft202012Validator(msgspec.json.schema(Changelog)).validate(data)
    back = msgspec.convert(data, Changelog)
    assert back.entry("parameter", VOLTAGE).field_named("values").new.values[0].value == R.Quantity(Decimal(700), "V")
    assert data["summary"]["parameter"]["changed"] == 1 and data["summary"]["parameter"]["added"] >= 11
    value = next(e for e in data["entries"] if e["id"] == VOLTAGE)["fields"][0]["new"]["values"][0]["value"]
    assert value == {"type": "quantity", "value": "700", "unit": "V"}


def test_markdown_renders_a_table_per_kind(higher_voltage):
    code, out = run("current", higher_voltage, "--format", "markdown")
    assert code == 0
    lines = out.splitlines()
    at = lines.index("## Parameters")
    assert lines[at + 2] == "| change | id | label | field | old | new | cite |"
    assert lines[at + 3] == "|---|---|---|---|---|---|---|"
    assert lines[at + 4].startswith(f"| changed | `{VOLTAGE}` | Utility inverter, minimum rated output voltage | "
                                    "values | 600 V (sold from 2023-01-01) | 700 V (sold from 2023-01-01) |")


# ---------------------------------------------------------------------------------------------------
# over a catalog: the explanation diff and the credit at stake

def test_the_product_that_moves_lists_the_clause_whose_verdict_changed(higher_voltage):
    report = diff(load("current"), load(higher_voltage), [CATALOG])
    (change,) = report.changes  # a 250 kW, 600 V utility inverter; no other product is at 600 V on 3b
    assert change.product == "INV-SUN-250"
    (move,) = [m for m in change.moves if m.clauses]
    assert (move.rule, move.old, move.new) == ("inverter.utility", "holds", "fails")
    (clause,) = move.clauses
    assert clause.fact == "rated_output_voltage" and clause.path == "all[4]"
    assert (clause.old.actual, clause.old.threshold, clause.old.verdict) == (
        R.Quantity(Decimal(600), "V"), R.Quantity(Decimal(600), "V"), "true")
    assert (clause.new.actual, clause.new.threshold, clause.new.verdict) == (
        R.Quantity(Decimal(600), "V"), R.Quantity(Decimal(700), "V"), "false")
    code, out = run("current", higher_voltage, "--catalog", CATALOG)
    assert code == 0
    assert "INV-SUN-250: qualified 3b -> rejected" in out
    assert "inverter.utility (3b Utility inverter): holds -> fails" in out
    assert "was: rated_output_voltage 600 V is at least 600 V (met)" in out
    assert "now: rated_output_voltage 600 V is less than 700 V (not met)" in out
    assert "14 products compared, 1 changed" in out


def test_the_catalog_json_holds_the_moves_as_typed_clauses(higher_voltage):
    code, out = run("current", higher_voltage, "--catalog", CATALOG, "--format", "json")
    assert code == 0
    (change,) = json.loads(out)["changes"]
    clause = next(m for m in change["rules"] if m["clauses"])["clauses"][0]
    assert clause["new"]["threshold"] == {"type": "quantity", "value": "700", "unit": "V"}
    assert clause["old"]["verdict"] == "true" and clause["new"]["verdict"] == "false"


def test_the_credit_at_stake_sums_each_sale_under_both_rule_sets(higher_voltage, tmp_path):
    sales = tmp_path / "sales.csv"
    sales.write_text("facility,product,units,sale_date\nPLANT-A,INV-SUN-250,10,2025-04-01\n"
                     "PLANT-A,INV-SUN-250,5,2025-05-01\nPLANT-A,INV-COM-100,3,2025-05-01\n", encoding="utf-8")
    code, out = run("current", higher_voltage, "--catalog", CATALOG, "--sales", sales, "--format", "json")
    assert code == 0
    stake = json.loads(out)["stake"]
    # 15 units x 250,000 W x 0.015 USD/W lost; INV-COM-100 earns the same under both and is not listed
    assert [(p["product"], p["change"]["value"]) for p in stake["products"]] == [("INV-SUN-250", "-56250")]
    assert stake["change"] == {"type": "quantity", "value": "-56250", "unit": "USD"}
    code, out = run("current", higher_voltage, "--catalog", CATALOG, "--sales", sales)
    assert "INV-SUN-250    $56,250.00         $0.00  -$56,250.00" in out
    code, out = run("current", "current", "--sales", sales)
    assert code == 2 and "--sales needs --catalog" in out
