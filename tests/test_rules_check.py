"""`ampc rules check`: the overlaps and gaps between the class rules of each kind, found over the
facts' domains with witnesses the engine confirms; rules that never hold or decide; parameters and
facts nothing reads; editions of a rule whose periods overlap or leave a hole."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.analysis.check import check
from ampc.analysis.check_render import render_markdown
from ampc.cli import main
from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_mappings
from ampc.rules.loader import load_ruleset
from caselib import edited_copy

INVERTERS = "rules/part_ii/line_03_inverters.yaml"
BATTERIES = "rules/part_ii/line_05_batteries.yaml"
STEP = "0.000000000000000001"  # the finest difference the engine compares (10^-18 of the unit)


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["rules", "check", *map(str, args)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def edited(tmp_path: Path, rel: str, pattern: str, repl: str) -> Path:
    return edited_copy(tmp_path / "copy", rel, pattern, repl, re.S)


@pytest.fixture(scope="module")
def shipped() -> dict:
    code, out = run("--format", "json")
    assert code == 0, out
    return json.loads(out)


def kind(report: dict, name: str) -> list[dict]:
    return [k for k in report["kinds"] if k["kind"] == name]


def classes_holding(facts: dict, day: str = "2026-06-01") -> tuple[set[str], str | None]:
    """What the engine says of a product: the inverter class rules that hold, and the line it classifies on."""
    ruleset = load_ruleset()
    row = {"product": "p", "component": "inverter", "is_end_product": True, "converts_dc_to_ac": True,
           "dc_source": ["solar_module"], "connects_to_one_module": False,
           "used_with_certified_distributed_wind": False, "sale_date": day, **facts}
    with Decider(ruleset) as decider:
        record = decide_mappings([row], "test", decider)[0]
    held = {c.rule for c in record.considered if c.stage == "classify" and c.result == "holds"}
    return held, record.classified_line


def test_the_shipped_rules_have_no_error_and_every_witness_is_confirmed_by_the_engine(shipped):
    assert shipped["errors"] == 0
    regions = [r for k in shipped["kinds"] for r in k["overlaps"] + k["gaps"]]
    assert len(regions) > 100
    assert all(r["engine_agrees"] for r in regions)


def test_the_microinverter_and_residential_overlap_with_its_precedence_and_witness(shipped):
    (inverter,) = kind(shipped, "inverter")
    pair = [r for r in inverter["overlaps"] if r["holds"] == ["inverter.micro", "inverter.residential"]]
    assert len(pair) == 1, inverter["overlaps"]
    region = pair[0]
    assert region["winner"] == "inverter.micro" and region["precedence"] == "inverter.specific_first"
    assert region["where"]["ac_capacity"] == "at most 650 W"
    assert region["where"]["rated_output_voltage"] == "120 V or 240 V"
    assert region["where"]["phase"] == "single"
    w = region["witness"]
    assert (w["ac_capacity"], w["rated_output_voltage"], w["phase"]) == ("650 W", "240 V", "single")


def test_the_overlap_ends_exactly_at_650_w(shipped):
    base = {"phase": "single", "rated_output_voltage": "240 V", "suitable_for": ["residence"],
            "connects_to_one_module": True}
    assert classes_holding({**base, "ac_capacity": "650 W"})[0] == {"inverter.micro", "inverter.residential"}
    assert classes_holding({**base, "ac_capacity": f"{Decimal(650) + Decimal(STEP)} W"})[0] == {"inverter.residential"}


def test_the_480_v_gap_above_125_kw_with_its_witness(shipped):
    (inverter,) = kind(shipped, "inverter")
    gaps = [r for r in inverter["gaps"] if r["where"].get("phase") == "three"
            and r["where"].get("ac_capacity") == "more than 150,000 W and at most 1,000,000 W"
            and r["where"].get("rated_output_voltage") == "less than 600 V"]
    assert len(gaps) == 1, [g["where"] for g in inverter["gaps"]]
    w = gaps[0]["witness"]
    assert (w["ac_capacity"], w["rated_output_voltage"], w["phase"]) == ("1000000 W", "480 V", "three")
    assert "commercial" in w["suitable_for"]
    # and the region from 125 kW: it starts one step above commercial's ceiling
    below = [r for r in inverter["gaps"] if r["where"].get("ac_capacity") == "more than 125,000 W and at most 150,000 W"
             and r["where"].get("rated_output_voltage") == "208 V or 480 V"]
    assert len(below) == 1
    three = {"phase": "three", "rated_output_voltage": "480 V", "suitable_for": ["commercial"]}
    assert classes_holding({**three, "ac_capacity": "125 kW"}) == ({"inverter.commercial"}, "3c")
    assert classes_holding({**three, "ac_capacity": f"{Decimal(125000) + Decimal(STEP)} W"}) == (set(), None)
    assert classes_holding({**three, "ac_capacity": "1000 kW"}) == (set(), None)


def test_the_text_report_names_the_overlap_and_the_gap():
    code, out = run()
    assert code == 0
    assert "overlap: inverter.micro + inverter.residential; inverter.micro decides (precedence " \
           "inverter.specific_first)" in out
    assert ("where: ac_capacity more than 150,000 W and at most 1,000,000 W; phase three; rated_output_voltage "
            "less than 600 V") in out
    assert "witness: ac_capacity 1000000 W, phase three, rated_output_voltage 480 V" in out
    assert re.search(r"\n0 error\(s\), \d+ warning\(s\)", out)


def test_a_copy_without_the_inverter_precedence_exits_1_naming_the_overlap(tmp_path):
    root = edited(tmp_path, INVERTERS, r"precedence:\n  - id: inverter\.specific_first.*?review: inverter\.overlap\n",
                  "")
    readings = root / "definitions/interpretations.yaml"  # the reading the precedence applied goes with it
    text = readings.read_text(encoding="utf-8")
    readings.write_text(re.sub(r"\n  inverter\.overlap:\n.*?(?=\n  inverter\.distributed_wind_rated_output:)", "",
                               text, count=1, flags=re.S), encoding="utf-8")
    code, out = run("--rules", root)
    assert code == 1, out
    assert "error: inverter.micro, inverter.residential all hold for some inverter" in out
    assert "no precedence orders them" in out
    assert "fix: declare `precedence:` for family inverter" in out
    code, out = run("--rules", root, "--format", "json")
    found = [f for f in json.loads(out)["findings"] if f["what"] == "overlap_without_precedence"]
    assert {f["subject"] for f in found} == {"inverter"} and len(found) >= 5


def test_a_rule_left_out_of_the_precedence_is_an_error_too(tmp_path):
    root = edited(tmp_path, INVERTERS, r"order: \[inverter\.micro, ", "order: [")
    code, out = run("--rules", root)
    assert code == 1
    # the rules the order does not name are listed after those it does
    assert "error: inverter.residential, inverter.micro all hold for some inverter" in out, out
    assert "error: inverter.distributed_wind, inverter.micro all hold for some inverter" in out, out
    assert "inverter.commercial" not in out.split("\n\n")[-2]  # the overlaps the order decides are no error


def test_closing_the_gap_removes_it(tmp_path):
    # commercial up to 1,000 kW at 480 V: the gap above 125 kW at 480 V is closed, an overlap with utility opens
    root = edited(tmp_path, INVERTERS, r"(inverter\.commercial\.max_capacity:.*?values: \{2023-01-01: )125 kW",
                  r"\g<1>1000 kW")
    code, out = run("--rules", root, "--format", "json")
    report = json.loads(out)
    (inverter,) = kind(report, "inverter")
    assert not [g for g in inverter["gaps"] if g["where"].get("rated_output_voltage") == "less than 600 V"
                and "1,000,000 W" in g["where"].get("ac_capacity", "")]
    assert any(r["holds"] == ["inverter.utility", "inverter.commercial"] and r["winner"] == "inverter.utility"
               for r in inverter["overlaps"])


def test_editions_of_a_rule_in_force_together_are_an_error(tmp_path):
    root = edited(tmp_path, BATTERIES, r"(- id: battery\.module\.with_cells\n.*?in_force: \{from: 2022-01-01, to: )"
                  r"2025-07-04", r"\g<1>2025-07-10")
    code, out = run("--rules", root)
    assert code == 1
    assert ("error: battery.module.with_cells (in taxable years beginning from 2022-01-01 to 2025-07-10) and its "
            "edition battery.module.with_cells.2025") in out, out


def test_a_hole_between_editions_is_a_warning(tmp_path):
    root = edited(tmp_path, BATTERIES, r"(- id: battery\.module\.with_cells\n.*?in_force: \{from: 2022-01-01, to: )"
                  r"2025-07-04", r"\g<1>2025-06-30")
    code, out = run("--rules", root)
    assert code == 0, out
    assert ("warning: between battery.module.with_cells (in taxable years beginning from 2022-01-01 to 2025-06-30) "
            "and its edition battery.module.with_cells.2025 (in taxable years beginning from 2025-07-05) no edition "
            "is in force from 2025-07-01 to 2025-07-04") in out, out


def test_the_shipped_editions_meet_exactly():
    report = check(load_ruleset(), verify=False)
    assert not [f for f in report.findings if f.what.startswith("edition")]


def test_a_rule_that_can_never_hold_and_an_unused_parameter(tmp_path):
    # the central inverter needs more than 1,000 kW: a ceiling of 500 kW added makes it impossible
    root = edited(tmp_path, INVERTERS, r"(clause: \"a capacity which is greater than 1,000 kilowatts\"\})",
                  "\\1\n        - {fact: ac_capacity, at_most: 500 kW, clause: \"and at most 500 kilowatts\"}")
    target = root / INVERTERS
    target.write_text(target.read_text(encoding="utf-8").replace(
        "parameters:\n", "parameters:\n  inverter.spare:\n    label: Spare\n    description: Read by nothing.\n"
        "    unit: W\n    values: {2023-01-01: 5 kW}\n    references:\n      - {title: \"none\"}\n", 1),
        encoding="utf-8")
    code, out = run("--rules", root)
    assert code == 0, out
    assert "warning: no inverter meets inverter.central (from 2023-01-01)" in out
    assert "warning: no rule or credit line reads parameter inverter.spare" in out


def test_a_qualification_rule_whose_clauses_exclude_each_other_never_holds(tmp_path):
    root = edited(tmp_path, "rules/special_rules/qualified_sales.yaml",
                  r"(\{fact: sold_in_trade_or_business, is: true)", r"{fact: sold_in_trade_or_business, is: false}\n"
                  r"        - \1")
    code, out = run("--rules", root)
    assert "warning: no product meets qualify.trade_or_business" in out, out


def test_the_shipped_rules_read_every_parameter_and_fact():
    report = check(load_ruleset(), verify=False)
    assert not [f for f in report.findings if f.what in ("unused_parameter", "unused_fact")]


def test_as_of_and_edition():
    code, out = run("--as-of", "2024-06-01", "--format", "json")
    report = json.loads(out)
    assert all(k["from"] == k["to"] == "2024-06-01" for k in report["kinds"])
    assert not kind(report, "metallurgical_coal")  # line 6b is in force from July 5, 2025
    code, out = run("--edition", "2024-01", "--format", "json")
    assert code == 0
    assert not kind(json.loads(out), "metallurgical_coal")
    code, out = run("--edition", "1999")
    assert code == 2
    code, out = run("--as-of", "June 2024")
    assert code == 2


def test_the_battery_module_editions_are_analysed_in_their_own_periods(shipped):
    periods = [(k["from"], k["to"]) for k in kind(shipped, "battery_module")]
    assert periods == [("2023-01-01", "2025-07-04"), ("2025-07-05", None)]
    later = kind(shipped, "battery_module")[1]
    assert set(later["rules"]) == {"battery.module.with_cells.2025", "battery.module.without_cells.2025"}
    assert any(g["where"].get("comprises_essential_equipment") == "false" for g in later["gaps"])


def test_the_markdown_page_lists_every_kind():
    page = render_markdown(check(load_ruleset(), verify=False))
    assert "## inverter, from 2023-01-01" in page
    assert "| `inverter.micro`, `inverter.residential` | `inverter.micro` (inverter.specific_first) |" in page
