"""The YAML test cases under tests/cases/, read and decided as `ampc test` does (ampc.analysis.cases),
and a copy of the bundled rule set for a test to change."""

from __future__ import annotations

from pathlib import Path

from ampc.analysis import cases as A
from ampc.decide.decider import Decider
from ampc.records.record import Record

CASES = Path(__file__).resolve().parent / "cases"


def load_cases() -> list[tuple[str, dict, None]]:
    """The bundled cases, read as `ampc test` reads them (ampc.analysis.cases): (id, case, None)."""
    cases, problems = A.load_cases(CASES)
    assert not problems, [str(p) for p in problems]
    return [(f"{Path(c.file).relative_to('tests/cases').as_posix()}: {c.name}",
             {"name": c.name, "facts": c.facts, "as_of": c.as_of, "expect": c.expect, "file": c.file}, None)
            for c in cases]


def decide_case(decider: Decider, case: dict) -> Record:
    return A.decide(A.Case(case["name"], case.get("file", "case"), 0, case["facts"], case.get("expect", {}),
                           case.get("as_of")), decider)


def copy_rule_set(dest: Path) -> Path:
    """A copy of the bundled rules/ and definitions/ under dest, for a test to change or break."""
    import shutil
    root = CASES.parent.parent
    for sub in ("rules", "definitions"):
        shutil.copytree(root / sub, dest / sub)
    return dest
