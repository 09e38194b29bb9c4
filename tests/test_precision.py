"""A fact's declared precision (definitions/facts: `precision:`): the step between the values it can
take (a module's cells are counted whole). A value between two steps is refused, a threshold between
two steps is a problem of the rule set, and the boundary tests, `ampc rules check` and what would
qualify all step by it; a fact that declares none steps by the finest difference the engine compares."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from ampc.analysis import boundaries as B
from ampc.analysis import cases as A
from ampc.analysis.check import check
from ampc.analysis.qualify import what_would_qualify
from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_mappings
from ampc.records import record as R
from ampc.rules.loader import load_ruleset, validate
from ampc.rules.model import FINEST, step_of
from caselib import CASES, edited_copy

BATTERY_CASES = CASES / "part_ii/line_05_batteries.yaml"
MODULE = {**yaml.safe_load(BATTERY_CASES.read_text(encoding="utf-8"))["defaults"]["facts"],
          "component": "battery_module", "product": "M"}


def decide(ruleset, **facts) -> R.Record:
    with Decider(ruleset) as decider:
        return decide_mappings([{**MODULE, **facts}], "test", decider)[0]


def test_the_declared_step_and_the_default(ruleset):
    assert step_of(ruleset.facts["battery_cell_count"]) == 1
    assert step_of(ruleset.facts["ac_capacity"]) == FINEST == Decimal("1E-18")


@pytest.mark.parametrize("count, ok", [("2", True), ("3", True), ("2.0", True), ("1.5", False), ("2.000001", False)])
def test_a_count_of_cells_is_a_whole_number(ruleset, count, ok):
    record = decide(ruleset, battery_cell_count=count)
    if ok:
        assert isinstance(record, R.Decision), record
        assert record.line == "5b"
    else:
        assert isinstance(record, R.ErrorRecord)
        assert record.error.key == "battery_cell_count"
        assert "counted in steps of 1" in record.error.message
        assert record.error.fix == "give battery_cell_count in steps of 1 (a whole number)"


def test_at_the_threshold_and_one_step_either_side(ruleset):
    assert decide(ruleset, battery_cell_count="2").line == "5b"
    below = decide(ruleset, battery_cell_count="1")
    assert below.outcome == "rejected"
    clause = next(c for c in below.considered_rule("battery.module.with_cells").clauses
                  if c.fact == "battery_cell_count")
    assert clause.verdict == "false"


def test_the_boundary_tests_step_by_the_precision(ruleset):
    cases = [c for c in A.load_cases(CASES)[0] if "line_05_batteries" in c.file]
    with Decider(ruleset) as decider:
        run = B.run_boundaries(ruleset, decider, [(c, A.decide(c, decider)) for c in cases])
    assert not run.wrong, B.render_boundaries(run)
    cells = {c.point.place: c.point.value for c in run.checked
             if c.point.fact == "battery_cell_count" and c.point.rule == "battery.module.with_cells"}
    assert cells == {"at": 2, "inside": 3, "outside": 1}


def test_rules_check_regions_and_witnesses_hold_whole_counts(ruleset):
    report = check(ruleset)
    (later,) = [k for k in report.kinds if k.kind == "battery_module" and k.end is None]
    short = [g for g in later.gaps if dict(g.where).get("battery_cell_count") == "less than 2"]
    assert short and all(g.witness["battery_cell_count"] == "1 count" for g in short)
    assert all(not g.verified for g in later.gaps)


def test_what_would_qualify_adds_whole_cells(ruleset):
    with Decider(ruleset) as decider:
        record = decide_mappings([{**MODULE, "battery_cell_count": "1"}], "test", decider)[0]
        result = what_would_qualify(record, decider)
    five_b = next(c for c in result.candidates if c.line == "5b")
    (change,) = five_b.changes
    assert change.fact == "battery_cell_count" and change.to.value == 2 and five_b.verified


def _copy_with(tmp_path, rel: str, pattern: str, repl: str):
    return edited_copy(tmp_path / "copy", rel, pattern, repl)


def test_a_threshold_between_two_steps_is_a_problem_of_the_rule_set(tmp_path):
    root = _copy_with(tmp_path, "rules/part_ii/line_05_batteries.yaml", r"values: \{2023-01-01: 2 count\}",
                      "values: {2023-01-01: 2.5 count}")
    problems = validate(root)
    assert any("battery.module.min_cells" in p.message and "not a whole multiple of battery_cell_count's precision"
               in p.message and p.fix.startswith("write a value in steps of 1") for p in problems), problems


def test_a_precision_must_be_more_than_zero(tmp_path):
    root = _copy_with(tmp_path, "definitions/facts/batteries.yaml", r"precision: 1 ", "precision: 0 ")
    problems = validate(root)
    assert any("precision must be more than 0" in p.message for p in problems), problems


def test_only_a_quantity_has_a_precision(tmp_path):
    root = _copy_with(tmp_path, "definitions/facts/batteries.yaml",
                      r"(  uses_battery_cells:\n    type: bool\n)", r"\1    precision: 1\n")
    problems = validate(root)
    assert any("precision" in p.message for p in problems), problems


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset()
