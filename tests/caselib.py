"""Load the YAML test cases under tests/cases/ and decide them through the one pipeline
(engine/ampc/decide/pipeline.py)."""

from __future__ import annotations

from pathlib import Path

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_mappings
from ampc.records.record import Record
from ampc.rules.yamlio import load_yaml

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
            case = dict(case, facts=facts, as_of=case.get("as_of", defaults.get("as_of")),
                        file=str(path.relative_to(CASES.parent.parent)))
            out.append((f"{path.relative_to(CASES)}: {case['name']}", case, data))
    return out


def case_item(case: dict) -> dict:
    """The case as a YAML catalog entry: its name as the product id, its date, its facts."""
    return {"product": case["name"], "as_of": case["as_of"], **case["facts"]}


def decide_case(decider: Decider, case: dict) -> Record:
    return decide_mappings([case_item(case)], case.get("file", "case"), decider)[0]


def copy_rule_set(dest: Path) -> Path:
    """A copy of the bundled rules/ and definitions/ under dest, for a test to change or break."""
    import shutil
    root = CASES.parent.parent
    for sub in ("rules", "definitions"):
        shutil.copytree(root / sub, dest / sub)
    return dest
