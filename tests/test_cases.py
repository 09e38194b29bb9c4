"""Every YAML case under tests/cases/: outcome, line, and the failed clauses, not only the verdict;
an input the case expects refused is asserted by the column, the message and the fix."""

from __future__ import annotations

import jsonschema
import pytest

from ampc.io.report import reason, sentence
from ampc.records import record as R
from caselib import decide_case, load_cases

CASES = load_cases()
SCHEMA = jsonschema.Draft202012Validator(R.schema("record"))


@pytest.mark.parametrize("case", [c for _, c, _ in CASES], ids=[n for n, _, _ in CASES])
def test_case(decider, case):
    expect = case["expect"]
    record = decide_case(decider, case)
    SCHEMA.validate(R.to_builtins(record))  # every record the cases produce is one the schema describes
    if "error" in expect:
        wanted = expect["error"]
        assert isinstance(record, R.ErrorRecord), f"expected an input error, got {record.outcome}"
        assert record.error.key == wanted["key"], record.error
        for words in wanted.get("message", []):
            assert words in record.error.message, f"{words!r} not in the message {record.error.message!r}"
        for words in wanted.get("fix", []):
            assert words in record.error.fix, f"{words!r} not in the fix {record.error.fix!r}"
        return
    assert isinstance(record, R.Decision), record.error.message
    assert record.outcome == expect["outcome"], reason(record)
    assert record.line == expect.get("line"), reason(record)
    for rule, facts in expect.get("fails", {}).items():
        considered = record.considered_rule(rule)
        assert considered is not None, f"{rule} was not considered"
        assert considered.result == "fails", f"{rule} {considered.result}"
        failed = [c for c in considered.clauses if c.decisive]
        assert sorted({c.fact for c in failed}) == sorted(facts), [sentence(c) for c in failed]
    for rule in expect.get("holds", []):
        assert record.considered_rule(rule).result == "holds", rule
    for rule in expect.get("undetermined", []):
        assert record.considered_rule(rule).result == "undetermined", rule
    if "missing" in expect:
        assert list(record.missing) == expect["missing"]
    assert sorted(f.kind for f in record.flags) == sorted(expect.get("flags", []))
