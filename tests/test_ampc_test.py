"""`ampc test`: the YAML cases of any rule set, an analyst's edited copy included, through the one
pipeline; each failure names the case, the clause, the actual value and the threshold."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.cli import main
from caselib import CASES, copy_rule_set, edited_copy

ROOT = Path(__file__).resolve().parent.parent
INVERTERS = "rules/part_ii/line_03_inverters.yaml"
UTILITY_FLOOR = r"(  inverter\.utility\.min_capacity:\n(?:    .*\n)*?    values: \{2023-01-01: )125 kW\}"


def run(*args):
    result = CliRunner().invoke(main, ["test", *map(str, args)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def edited(tmp_path: Path, pattern: str, repl: str) -> Path:
    """A copy of the bundled rules with one change (pattern -> repl, once)."""
    return edited_copy(tmp_path / "copy", INVERTERS, pattern, repl)


def test_the_shipped_cases_pass_on_the_shipped_rules():
    result = run()
    assert result.exit_code == 0, result.output
    total = re.search(r"(\d+) case\(s\): (\d+) passed, 0 failed", result.stdout)
    assert total and total.group(1) == total.group(2) and int(total.group(1)) > 500, result.stdout


def test_a_copy_with_an_inverter_threshold_changed_fails_naming_case_clause_and_values(tmp_path):
    root = edited(tmp_path, UTILITY_FLOOR, r"\g<1>120 kW}")
    result = run(root)
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert ("FAIL  tests/cases/part_ii/line_03_inverters.yaml:57: exactly 125 kW at 600 V is commercial, "
            "not utility\n  line: expected 3c, got 3b\n") in out, out
    assert ("inverter.utility: ac_capacity 125,000 W is more than 120,000 W (inverter.utility.min_capacity)"
            in out), out
    assert "1 failed" in out


def test_a_threshold_moved_the_other_way_fails_the_cases_on_the_other_side(tmp_path):
    root = edited(tmp_path, UTILITY_FLOOR, r"\g<1>130 kW}")
    result = run(root)
    assert result.exit_code == 1, result.output
    assert ("FAIL  tests/cases/part_ii/line_03_inverters.yaml:60: 125.001 kW at 600 V is utility, not commercial\n"
            "  outcome: expected qualified, got rejected\n"
            "      inverter.utility: ac_capacity 125,001 W is not more than 130,000 W (inverter.utility.min_capacity)\n"
            ) in result.stdout, result.stdout


def test_k_selects_cases_by_file_and_name():
    result = run("-k", "line_03_inverters.yaml: exactly 125 kW")
    assert result.exit_code == 0 and re.search(r"^[1-9]\d* case\(s\)", result.stdout, re.M), result.output
    nothing = run("-k", "no case is called this")
    assert nothing.exit_code == 0 and "no case matches 'no case is called this'" in nothing.stderr


def test_json_lists_each_failure_with_the_clauses_as_data(tmp_path):
    root = edited(tmp_path, UTILITY_FLOOR, r"\g<1>120 kW}")
    result = run(root, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["failed"] == 1 and data["passed"] == data["cases"] - 1
    (failure,) = data["failures"]
    line = next(m for m in failure["mismatches"] if m["what"] == "line")
    assert (line["expected"], line["actual"]) == ("3c", "3b")
    clause = next(c for c in line["clauses"] if c["param"] == "inverter.utility.min_capacity")
    assert clause["actual"] == {"type": "quantity", "value": "125000", "unit": "W"}
    assert clause["threshold"] == {"type": "quantity", "value": "120000", "unit": "W"}


def _cases_dir(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "mycases" / "part_ii"
    folder.mkdir(parents=True)
    (folder / "inverters.yaml").write_text(text, encoding="utf-8")
    return folder.parent


GOOD = """defaults:
  as_of: 2025-06-30
  facts: {component: inverter, phase: single}
cases:
  - name: a bare case
    facts: {phase: three}
    expect: {outcome: undetermined}
"""


@pytest.mark.parametrize("typo, key, owner", [
    ("expcet", "expect", "case 'a bare case'"), ("nmae", "name", "case '(case at line 5)'"),
    ("fatcs", "facts", "case 'a bare case'"),
])
def test_an_unknown_key_in_a_case_file_is_reported_at_its_line_with_did_you_mean(tmp_path, typo, key, owner):
    text = GOOD.replace(f"{key}:", f"{typo}:", 1) if key != "facts" else GOOD.replace("    facts:", f"    {typo}:")
    result = run("--cases", _cases_dir(tmp_path, text))
    assert result.exit_code == 1, result.output
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if f"{typo}:" in row)
    assert (f"mycases/part_ii/inverters.yaml:{line}: unknown key '{typo}' in {owner} (did you mean '{key}'?)\n"
            "    fix: allowed keys: as_of, expect, facts, name") in result.stdout, result.stdout
    assert "0 case(s)" in result.stdout  # a file with a problem gives no case: its expectations are not trusted


def test_a_comma_in_an_unquoted_flow_name_is_caught_as_a_stray_key(tmp_path):
    """`{name: produced on January 1, 2023 qualifies, ...}` is YAML for the name 'produced on January 1'
    and a key '2023 qualifies': the schema refuses the key, so the case is not run under a cut name."""
    text = ("cases:\n  - {name: produced on January 1, 2023 qualifies, facts: {component: inverter},"
            " expect: {outcome: undetermined}}\n")
    result = run("--cases", _cases_dir(tmp_path, text))
    assert result.exit_code == 1
    assert "mycases/part_ii/inverters.yaml:2: unknown key '2023 qualifies'" in result.stdout, result.stdout


def test_an_expected_error_must_give_its_message_and_fix(tmp_path):
    text = GOOD.replace("expect: {outcome: undetermined}", "expect: {error: {key: ac_capacity}}")
    result = run("--cases", _cases_dir(tmp_path, text))
    assert result.exit_code == 1
    assert "mycases/part_ii/inverters.yaml:7: the expected error is missing 'message'" in result.stdout, result.stdout
    assert "mycases/part_ii/inverters.yaml:7: the expected error is missing 'fix'" in result.stdout, result.stdout


def test_an_expected_error_is_asserted_by_its_message_and_fix(tmp_path):
    base = ("cases:\n  - name: kg for a power\n    facts: {component: inverter, ac_capacity: 125 kg}\n"
            "    expect: {error: {key: ac_capacity, message: [%s], fix: [%s]}}\n")
    ok = run("--cases", _cases_dir(tmp_path / "a", base % ('"measures mass"', '"give the value in W"')))
    assert ok.exit_code == 0, ok.output
    wrong = run("--cases", _cases_dir(tmp_path / "b", base % ('"measures length"', '"give the value in W"')))
    assert wrong.exit_code == 1
    assert "error message: expected [measures length], got 'kg' measures mass, not power (W)" in wrong.stdout, \
        wrong.stdout


def test_a_case_expecting_an_outcome_gets_an_error_record_reported(tmp_path):
    text = GOOD.replace("facts: {phase: three}", "facts: {phase: three, ac_capacity: 5 kg}")
    result = run("--cases", _cases_dir(tmp_path, text))
    assert result.exit_code == 1
    assert "outcome: expected undetermined, got error" in result.stdout, result.stdout
    assert "'kg' measures mass" in result.stdout


def test_no_cases_directory_is_exit_2_with_the_fix(tmp_path):
    result = run("--cases", tmp_path / "nowhere")
    assert result.exit_code == 2 and "no such directory of cases" in result.stderr and "fix:" in result.stderr


def test_an_edited_copy_with_its_own_cases_runs_those(tmp_path):
    root = copy_rule_set(tmp_path / "copy")
    shutil.copytree(CASES / "part_ii", root / "tests" / "cases" / "part_ii")
    (root / "tests" / "cases" / "part_ii" / "line_01_solar.yaml").unlink()
    result = run(root)
    assert result.exit_code == 0, result.output
    assert f"cases: {root / 'tests' / 'cases'}" in result.stderr
