"""`ampc validate` on deliberately broken rule files: every problem at file:line, with the fix."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ampc.rules.loader import validate
from caselib import copy_rule_set

ROOT = Path(__file__).resolve().parent.parent
BROKEN = Path(__file__).resolve().parent / "fixtures" / "broken"
FIXTURES = sorted(BROKEN.glob("*.yaml"))


@pytest.fixture()
def tree(tmp_path):
    """A copy of the bundled rule set that a test may break."""
    return copy_rule_set(tmp_path)


def expectations(path: Path) -> tuple[list[str], int]:
    text = path.read_text()
    words = re.search(r"^# expect: (.*)$", text, re.M).group(1).split(" | ")
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if "# <- here" in row)
    return words, line


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_broken_rule_file_is_reported_at_its_line(tree, fixture):
    target = tree / "rules" / "part_ii" / f"zz_{fixture.name}"
    shutil.copy(fixture, target)
    words, line = expectations(fixture)
    problems = validate(tree)
    assert problems, "a broken file must not validate"
    here = [p for p in problems if p.where == f"rules/part_ii/zz_{fixture.name}:{line}"]
    assert here, [str(p) for p in problems]
    text = "\n".join(str(p) for p in problems)
    for word in words:
        assert word in text, f"{word!r} not in:\n{text}"
    assert all(p.fix for p in here), "every problem says how to fix it"


def test_every_problem_is_listed_not_just_the_first(tree):
    for fixture in FIXTURES[:4]:
        shutil.copy(fixture, tree / "rules" / "part_ii" / f"zz_{fixture.name}")
    problems = validate(tree)
    files = {p.where.split(":")[0] for p in problems}
    assert len(files) == 4, files


def test_a_fact_defined_twice_is_reported(tree):
    (tree / "definitions" / "facts" / "zz_again.yaml").write_text(
        "facts:\n  phase:\n    type: enum\n    values: [single]\n    label: Phase\n    description: Again.\n")
    problems = validate(tree)
    assert any("fact 'phase' is defined twice" in str(p) and p.where == "definitions/facts/zz_again.yaml:2"
               for p in problems), [str(p) for p in problems]


def test_a_parameter_of_the_wrong_kind_of_unit_is_reported(tree):
    path = tree / "rules" / "part_ii" / "line_03_inverters.yaml"
    text = path.read_text().replace("values: {2023-01-01: 650 W}", "values: {2023-01-01: 650 V}")
    path.write_text(text)
    problems = validate(tree)
    assert any("measures electric potential (voltage), not power" in str(p) for p in problems)


def test_cli_validate_exit_codes_and_no_traceback(tree):
    ok = subprocess.run([sys.executable, "-m", "ampc.cli", "validate", str(tree)],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("ok: ")
    shutil.copy(BROKEN / "misspelt_key.yaml", tree / "rules" / "part_ii" / "zz_bad.yaml")
    bad = subprocess.run([sys.executable, "-m", "ampc.cli", "validate", str(tree)],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stdout + bad.stderr
    assert "rules/part_ii/zz_bad.yaml:" in bad.stdout and "fix:" in bad.stdout


def test_no_problem_is_reported_twice(tree):
    for fixture in FIXTURES:
        if fixture.name != "yaml_syntax.yaml":
            shutil.copy(fixture, tree / "rules" / "part_ii" / f"zz_{fixture.name}")
    problems = [str(p) for p in validate(tree)]
    assert len(problems) == len(set(problems)), [p for p in problems if problems.count(p) > 1]
