"""Every YAML case under tests/cases/, through the runner `ampc test` uses (ampc.analysis.cases):
outcome, line and the failed clauses, not only the verdict; an input the case expects refused is
asserted by its column, the words of its message and of its fix."""

from __future__ import annotations

import jsonschema
import pytest

from ampc.analysis import cases as A
from ampc.records import record as R
from caselib import CASES

FOUND, PROBLEMS = A.load_cases(CASES)
SCHEMA = jsonschema.Draft202012Validator(R.schema("record"))


def test_every_case_file_has_the_shape_of_its_schema():
    assert not PROBLEMS, "\n".join(str(p) for p in PROBLEMS)


@pytest.mark.parametrize("case", FOUND, ids=[c.id.removeprefix("tests/cases/") for c in FOUND])
def test_case(decider, case):
    result = A.run_case(case, decider)
    SCHEMA.validate(R.to_builtins(result.record))  # every record the cases produce is one the schema describes
    assert result.passed, A.render_text(A.CaseRun(CASES, [result]))
