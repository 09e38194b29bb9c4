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


def edited_copy(dest: Path, rel: str, pattern: str, repl: str, flags: int = 0) -> Path:
    """A copy of the bundled rule set under dest with one change to the file rel (pattern -> repl,
    once); the test fails if the pattern is not found, so that a change cannot silently do nothing."""
    import re
    root = copy_rule_set(dest)
    target = root / rel
    text = target.read_text(encoding="utf-8")
    changed = re.sub(pattern, repl, text, count=1, flags=flags)
    assert changed != text, f"{pattern!r} not found in {rel}"
    target.write_text(changed, encoding="utf-8")
    return root


def copy_rule_set(dest: Path) -> Path:
    """A copy of the bundled rules/ and definitions/ under dest, for a test to change or break."""
    import shutil
    root = CASES.parent.parent
    for sub in ("rules", "definitions"):
        shutil.copytree(root / sub, dest / sub)
    return dest
