"""The rule corpus itself: metadata on every rule and parameter, cases mirroring every rules file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ampc.rules.loader import validate
from caselib import copy_rule_set, decide_case, load_cases

ROOT = Path(__file__).resolve().parent.parent


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


RULE_METADATA = ["id", "line", "label", "text", "cite", "in_force", "when", "stage", "family"]


@pytest.mark.parametrize("key", RULE_METADATA + ["cite.irc", "cite.instructions"])
def test_a_rule_without_its_metadata_is_refused_naming_file_and_key(tmp_path, key):
    root = copy_rule_set(tmp_path / "ruleset")
    path = root / "rules" / "part_ii" / "line_03_inverters.yaml"

    def drop(data):
        """The key gone from the rule and from the file's defaults, which the rule would take it from."""
        rule = next(r for r in data["rules"] if r["id"] == "inverter.identify")
        for holder in (rule, data.get("defaults") or {}):
            if "." in key:
                outer, inner = key.split(".")
                (holder.get(outer) or {}).pop(inner, None)
            else:
                holder.pop(key, None)
    _edit(path, drop)
    problems = validate(root)
    assert problems, f"a rule without '{key}' was accepted"
    text = "\n".join(str(p) for p in problems)
    name = key.split(".")[-1]
    assert any(p.where.startswith("rules/part_ii/line_03_inverters.yaml:") and f"'{name}'" in p.message
               for p in problems), text  # the key named in the message, not found in the file's name


@pytest.mark.parametrize("key", ["label", "description", "unit", "values", "references"])
def test_a_parameter_without_its_metadata_is_refused(tmp_path, key):
    root = copy_rule_set(tmp_path / "ruleset")
    path = root / "rules" / "part_ii" / "line_03_inverters.yaml"
    _edit(path, lambda data: data["parameters"]["inverter.utility.min_capacity"].pop(key))
    problems = validate(root)
    assert problems and any(key in str(p) for p in problems), [str(p) for p in problems]


def test_every_rule_points_at_its_place_in_its_file(ruleset):
    """An auditor follows a record's `source` to the rule's text: file:line must hold `id: <rule>`."""
    for rule in ruleset.rules:
        file, _, line = rule.where.rpartition(":")
        lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
        assert f"id: {rule.id}" in lines[int(line) - 1], (rule.id, rule.where, lines[int(line) - 1])


def test_every_citation_names_the_instructions_and_a_45x_paragraph(ruleset):
    for rule in ruleset.rules:
        assert "Form 7207" in rule.cite["instructions"], rule.id
        assert re.match(r"^(45X|7701)\(", str(rule.cite["irc"])), (rule.id, rule.cite["irc"])


@pytest.mark.parametrize("key", ["label", "description", "type"])
def test_a_fact_without_its_metadata_is_refused(tmp_path, key):
    root = copy_rule_set(tmp_path / "ruleset")
    _edit(root / "definitions" / "facts" / "inverters.yaml", lambda data: next(iter(data["facts"].values())).pop(key))
    problems = validate(root)
    assert problems and any(key in str(p) for p in problems), [str(p) for p in problems]


def test_every_rules_file_has_its_cases_at_the_same_path():
    for path in sorted((ROOT / "rules").rglob("*.yaml")):
        if path.name == "ruleset.yaml" or not (yaml.safe_load(path.read_text()) or {}).get("rules"):
            continue  # a file of credit amounts only: tests/test_credit.py computes with it
        mirror = ROOT / "tests" / "cases" / path.relative_to(ROOT / "rules")
        assert mirror.is_file(), f"{path.relative_to(ROOT)} has no test cases at {mirror.relative_to(ROOT)}"


@pytest.fixture(scope="module")
def outcomes(ruleset):
    from ampc.decide.decider import Decider
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
