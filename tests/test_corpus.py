"""The rule corpus itself: metadata on every rule and parameter, cases mirroring every rules file."""

from __future__ import annotations

from pathlib import Path

import pytest
from caselib import decide_case, load_cases

ROOT = Path(__file__).resolve().parent.parent


def test_every_rule_carries_its_metadata(ruleset):
    for rule in ruleset.rules:
        assert rule.id and rule.label and rule.line and rule.text, rule.id
        assert rule.cite.get("instructions") and rule.cite.get("irc"), rule.id
        assert rule.in_force_from is not None, rule.id


def test_every_parameter_carries_its_metadata(ruleset):
    for param in ruleset.params.values():
        assert param.label and param.description and param.unit, param.id
        assert param.values, param.id
        assert param.references and all(r.get("title") for r in param.references), param.id


def test_every_fact_is_described(ruleset):
    for fact in ruleset.facts.values():
        assert fact.label and fact.description, fact.name


def test_every_rules_file_has_its_cases_at_the_same_path():
    import yaml
    for path in sorted((ROOT / "rules").rglob("*.yaml")):
        if path.name == "ruleset.yaml" or not (yaml.safe_load(path.read_text()) or {}).get("rules"):
            continue  # a file of credit amounts only: tests/test_credit.py computes with it
        mirror = ROOT / "tests" / "cases" / path.relative_to(ROOT / "rules")
        assert mirror.is_file(), f"{path.relative_to(ROOT)} has no test cases at {mirror.relative_to(ROOT)}"


@pytest.fixture(scope="module")
def outcomes(ruleset):
    from engine.decide import Decider
    seen: dict[str, set[str]] = {}
    with Decider(ruleset) as decider:
        for _, case, _ in load_cases():
            decision = decide_case(decider, case)
            for considered in getattr(decision, "considered", ()):
                seen.setdefault(considered.rule, set()).add(considered.result)
    return seen


def test_every_rule_is_exercised_holding_and_failing(ruleset, outcomes):
    for rule in ruleset.rules:
        results = outcomes.get(rule.id, set())
        assert "holds" in results, f"no test case where {rule.id} holds"
        assert "fails" in results, f"no test case where {rule.id} fails"


def test_every_part_ii_line_has_its_credit_amount(ruleset):
    lines = {r.line for r in ruleset.rules if r.stage == "classify"}
    assert lines <= set(ruleset.credits), sorted(lines - set(ruleset.credits))
    for credit in ruleset.credits.values():
        rate = ruleset.params[credit.rate]  # from the start of the credit, or from after its enactment
        start = rate.values[0].start
        assert start.isoformat() == "2023-01-01" if rate.enacted is None else start > rate.enacted, credit.line
        assert credit.cite.get("irc") and credit.column_a and credit.column_b, credit.line
