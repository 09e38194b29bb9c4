"""Every YAML case under tests/cases/: outcome, line, and the failed clauses, not only the verdict."""

from __future__ import annotations

import pytest
from caselib import decide_case, load_cases

from engine.units import UnitError

CASES = load_cases()


@pytest.mark.parametrize("case", [c for _, c, _ in CASES], ids=[n for n, _, _ in CASES])
def test_case(decider, case):
    expect = case["expect"]
    decision = decide_case(decider, case)
    if "error" in expect:
        assert isinstance(decision, UnitError), f"expected an input error, got {decision}"
        text = f"{decision.message} {decision.fix}"
        for words in expect["error"]:
            assert words in text or words in case["facts"], f"{words!r} not in {text!r}"
        return
    assert not isinstance(decision, UnitError), decision.message
    assert decision.outcome == expect["outcome"], decision.reason
    assert decision.line == expect.get("line"), decision.reason
    by_rule = {c.rule: c for c in decision.considered}
    for rule, facts in expect.get("fails", {}).items():
        considered = by_rule[rule]
        assert considered.result == "fails", f"{rule} {considered.result}"
        assert sorted({c.fact for c in considered.failed}) == sorted(facts), \
            [c.sentence() for c in considered.failed]
    for rule in expect.get("holds", []):
        assert by_rule[rule].result == "holds", rule
    for rule in expect.get("undetermined", []):
        assert by_rule[rule].result == "undetermined", rule
    if "missing" in expect:
        assert list(decision.missing) == expect["missing"]
    assert sorted(f.kind for f in decision.flags) == sorted(expect.get("flags", []))
