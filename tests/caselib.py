"""Load the YAML test cases under tests/cases/ and turn them into decisions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from engine.catalog import add_computed, normalize_value
from engine.decide import Decider
from engine.record import Decision
from engine.units import UnitError
from engine.yamlio import load_yaml

CASES = Path(__file__).resolve().parent / "cases"


def load_cases() -> list[tuple[str, dict, dict]]:
    out = []
    for path in sorted(CASES.rglob("*.yaml")):
        data, problems = load_yaml(path)
        assert not problems, problems
        defaults = data.get("defaults", {})
        for case in data["cases"]:
            facts = dict(defaults.get("facts", {}))
            facts.update(case.get("facts", {}))
            case = dict(case, facts=facts, as_of=case.get("as_of", defaults.get("as_of")))
            out.append((f"{path.relative_to(CASES)}: {case['name']}", case, data))
    return out


def normalize(ruleset, raw: dict[str, Any]) -> dict[str, Any]:
    """The facts as a catalog row gives them: typed, in canonical units, with the computed facts."""
    facts = {k: normalize_value(ruleset.facts[k], v, "", ruleset) for k, v in raw.items()}
    add_computed(facts, ruleset.facts)
    return facts


def decide_case(decider: Decider, case: dict) -> Decision | UnitError:
    try:
        facts = normalize(decider.ruleset, case["facts"])
    except UnitError as exc:
        return exc
    as_of = case["as_of"]
    as_of = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    return decider.decide(case["name"], facts, as_of)
