"""Generated boundary tests and clause coverage (ampc.analysis.boundaries): every comparison of every
rule decided at its threshold, one step inside and one step outside, in every edition; every is /
one_of clause met and not met; and every clause made both true and false by some test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner

from ampc.analysis import boundaries as B
from ampc.analysis import cases as A
from ampc.cli import main
from ampc.decide.decider import Decider
from ampc.rules.loader import edition
from caselib import CASES

FOUND, _ = A.load_cases(CASES)


@pytest.fixture(scope="module")
def runs(ruleset):
    sets = [("as loaded", ruleset)] + [(name, edition(ruleset, e.enacted_by))
                                       for name, e in ruleset.editions.items() if e.enacted_by]
    out = {}
    for label, rules in sets:
        with Decider(rules) as decider:
            decided = [(c, A.decide(c, decider)) for c in FOUND]
            out[label] = B.run_boundaries(rules, decider, decided, label)
    return out


def test_every_generated_product_flips_exactly_where_its_clause_says(runs, capsys):
    for run in runs.values():
        assert not run.wrong, B.render_boundaries(run)
        assert len(run.checked) > 800
        with capsys.disabled():
            print(f"\nboundaries: {B.render_boundaries(run).strip()}")


def test_every_clause_is_made_both_true_and_false_by_some_test(runs):
    for run in runs.values():
        assert not run.coverage.uncovered(), B.render_boundaries(run)
        assert len(run.coverage.clauses) > 400


def test_a_strict_bound_is_tried_one_compared_step_on_each_side(runs):
    run = runs["as loaded"]
    floor = {c.point.place: c.point for c in run.checked
             if c.point.rule == "inverter.utility" and c.point.fact == "ac_capacity" and c.point.op == "more_than"}
    assert floor["at"].value == Decimal("125000") and floor["at"].expected is False
    assert floor["inside"].value == Decimal("125000.000000000000000001") and floor["inside"].expected is True
    assert floor["outside"].value == Decimal("124999.999999999999999999") and floor["outside"].expected is False


def test_a_comparison_read_the_wrong_way_round_is_caught(ruleset, monkeypatch):
    """`not less than` read as `greater than` by the explainer: the products at each at_least
    threshold are wrong (the engine and the explainer disagree there), and the boundary tests say so."""
    from ampc.rules import operators
    monkeypatch.setitem(operators.OPERATORS, "at_least", operators.Operator("at_least", lambda a, e: a > e))
    cases = [c for c in FOUND if "line_03_inverters" in c.file]
    with Decider(ruleset) as decider:
        run = B.run_boundaries(ruleset, decider, [(c, A.decide(c, decider)) for c in cases])
    wrong = {(c.point.rule, c.point.fact, c.point.place) for c in run.wrong}
    assert ("inverter.utility", "rated_output_voltage", "at") in wrong, B.render_boundaries(run)
    assert ("inverter.utility", "rated_output_voltage", "inside") not in wrong


def test_a_clause_no_test_reaches_is_reported_uncovered(ruleset):
    cases = [c for c in FOUND if "line_03_inverters" not in c.file]
    with Decider(ruleset) as decider:
        run = B.run_boundaries(ruleset, decider, [(c, A.decide(c, decider)) for c in cases[:40]])
    uncovered = {(rule, cmp.fact) for rule, _path, cmp, _seen in run.coverage.uncovered()}
    assert ("inverter.utility", "rated_output_voltage") in uncovered
    assert "UNCOVERED inverter.utility all[4]: rated_output_voltage at_least" in B.render_boundaries(run)


def test_ampc_test_boundaries_reports_every_edition():
    result = CliRunner().invoke(main, ["test", "--boundaries"])
    assert result.exit_code == 0, result.output
    assert "ampc-rules as loaded: " in result.stdout and "edition 2024-01" in result.stdout
    assert ", 0 wrong; " in result.stdout and " by some test, 0 not" in result.stdout
