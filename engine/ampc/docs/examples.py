"""The examples the pages show, decided through the one pipeline (ampc.decide.pipeline) as `ampc
classify` decides them: each rules file's YAML test cases, its worked examples (docs/examples/), and
a qualifying case moved to just inside and just outside each threshold."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_row, rows_of
from ampc.docs.errors import DocsError
from ampc.docs.outline import cmps
from ampc.io import report
from ampc.records import record as R
from ampc.rules.model import Cmp, Rule, RuleSet
from ampc.rules.yamlio import load_yaml

COMPARISONS = {"at_least": "≥", "more_than": ">", "at_most": "≤", "less_than": "<"}


@dataclass
class Example:
    """A product as the docs show it: the mapping it was decided from, and its record."""

    name: str
    item: dict  # the raw values, as a YAML catalog writes them ({product, as_of, fact: value})
    record: R.Record
    source: str = ""

    @property
    def outcome(self) -> str:
        return "input refused" if isinstance(self.record, R.ErrorRecord) else self.record.outcome

    @property
    def line(self) -> str:
        return report.line_text(self.record)

    @property
    def reason(self) -> str:
        if isinstance(self.record, R.ErrorRecord):
            fix = f" (fix: {self.record.error.fix})" if self.record.error.fix else ""
            return f"input refused: {report.reason(self.record)}{fix}"
        return report.reason(self.record)

    def result_of(self, rule_id: str) -> str:
        if isinstance(self.record, R.ErrorRecord):
            return ""
        considered = self.record.considered_rule(rule_id)
        return report.RESULT[considered.result] if considered else "not considered"


class Runner:
    """Decides examples through the pipeline, with one decider for the whole site."""

    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self.decider = Decider(ruleset)
        self.labels = {p.id: p.label for p in ruleset.params.values()}

    def close(self) -> None:
        self.decider.close()

    def run(self, item: dict, source: str) -> Example:
        """One mapping of raw values ({product, as_of, fact: value}) to its example; a row that was
        read but could not be decided (the engine and the explainer disagree) fails the build."""
        row = rows_of([item], source, self.ruleset)[0]
        record = decide_row(row, self.decider)
        if row.problem is None and isinstance(record, R.ErrorRecord):
            raise DocsError(f"{source}: the engine failed on '{row.product}': {record.error.message}")
        return Example(row.product, item, record, source)

    def explain(self, example: Example, keep: Any = None) -> str:
        """The explanation `ampc explain` prints."""
        return report.explain(example.record, self.labels, keep)

    def expected(self, cmp: Cmp, as_of: dt.date) -> Any:
        """A condition's threshold as in force on a date (a parameter's value, or the literal)."""
        return self.decider.explainer.expected(cmp, as_of)


def read_examples(path: Path, key: str, base_defaults: dict | None = None) -> tuple[list[tuple[dict, dict]], dict]:
    """The entries of a test cases or worked examples file, each as a catalog mapping with its expectation."""
    if not path.is_file():
        return [], {}
    data, problems = load_yaml(path)
    if problems:
        raise DocsError("; ".join(str(p) for p in problems))
    defaults = data.get("defaults") or {}
    facts = dict((base_defaults or {}).get("facts") or {})
    facts.update(defaults.get("facts") or {})
    as_of = defaults.get("as_of", (base_defaults or {}).get("as_of"))
    out = []
    for item in data.get(key) or []:
        merged = dict(facts)
        merged.update(item.get("facts") or {})
        out.append(({"product": item["name"], "as_of": item.get("as_of", as_of), **merged}, item.get("expect") or {}))
    return out, defaults


def exercised(cases_of: dict[str, list[Example]], expect_of: dict) -> dict[str, list[tuple[str, Example]]]:
    """rule id -> the test cases that exercise it: it fired, decided a rejection, or the case names it."""
    out: dict[str, list[tuple[str, Example]]] = {}
    for file, examples in cases_of.items():
        mirror = file.split("rules/", 1)[-1]
        for ex in examples:
            expect = expect_of.get(f"{mirror}: {ex.name}", {})
            ids = set(expect.get("holds") or []) | set(expect.get("undetermined") or [])
            ids |= set(expect.get("fails") or {})
            if isinstance(ex.record, R.Decision):
                ids |= set(ex.record.chain)
                ids |= {c.rule for c in ex.record.considered if c.result == "fails" and c.stage != "classify"}
            for rid in sorted(ids):
                out.setdefault(rid, []).append((file, ex))
    return out


def thresholds(rule: Rule, ruleset: RuleSet) -> list[Cmp]:
    """The conditions of a rule that compare a quantity or a date with a number or a parameter."""
    out = []
    for cmp in cmps(rule.when):
        fact = ruleset.facts[cmp.fact]
        if cmp.param or (fact.type in ("quantity", "date") and cmp.op in COMPARISONS):
            out.append(cmp)
    return out


def clause_of(example: Example, rule_id: str, cmp: Cmp) -> R.Clause | None:
    """The clause of the example's record that evaluated this condition."""
    if isinstance(example.record, R.ErrorRecord):
        return None
    considered = example.record.considered_rule(rule_id)
    return next((c for c in considered.clauses if c.fact == cmp.fact and c.op == cmp.op
                 and c.param == (cmp.param or None)), None) if considered else None


def _epsilon(value: Decimal) -> Decimal:
    """A step just across a boundary: a thousandth, or a tenth of the value's last written digit."""
    exponent = value.normalize().as_tuple().exponent
    ulp = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    return min(Decimal("0.001"), ulp / 10)


def _across(op: str, threshold: R.Value, actual: R.Value) -> tuple[Any, Any] | None:
    """(a value just inside, a value just outside) the condition `op threshold`, or None."""
    if isinstance(threshold, R.Day):
        expected: Any = threshold.value
        step: Any = dt.timedelta(days=1)
    elif isinstance(threshold, R.Quantity):
        expected, step = threshold.value, _epsilon(threshold.value)
    elif op == "one_of" and isinstance(actual, R.Quantity):
        return actual.value, actual.value + _epsilon(actual.value)
    else:
        return None
    return {"at_least": (expected, expected - step), "more_than": (expected + step, expected),
            "at_most": (expected, expected + step), "less_than": (expected - step, expected),
            "is": (expected, expected + step)}.get(op)


def _raw(value: Any, unit: str) -> Any:
    """A value as a catalog writes it: a quantity with its unit, a date as it is."""
    return {"value": value, "unit": unit} if isinstance(value, Decimal) and unit else value


@dataclass
class Boundary:
    """One threshold of a rule, and the qualifying case moved to just inside and just outside it."""

    rule: Rule
    cmp: Cmp
    base: Example | None = None
    boundary: R.Value | None = None
    note: str = ""
    variants: tuple[tuple[str, R.Value, Example], ...] = ()  # (just inside | just outside, value, example)


def boundary_examples(runner: Runner, rule: Rule, cases: list[Example]) -> list[Boundary]:
    """For each threshold of the rule, a qualifying case moved to just inside and just outside it,
    and decided again through the pipeline."""
    rows = []
    for cmp in thresholds(rule, runner.ruleset):
        fact = runner.ruleset.facts[cmp.fact]
        held = ((c, clause_of(c, rule.id, cmp)) for c in cases
                if c.outcome == R.QUALIFIED and c.result_of(rule.id) == "holds")
        base, clause = next(((c, cl) for c, cl in held if cl is not None and cl.verdict == "true"), (None, None))
        row = Boundary(rule, cmp, base)
        rows.append(row)
        if base is None or clause is None:
            continue
        row.boundary = clause.threshold
        across = _across(cmp.op, clause.threshold, clause.actual)
        if fact.computed or fact.derived:
            row.note = (f"{cmp.fact} is computed from other facts" if fact.computed
                        else f"{cmp.fact} is concluded by the rules") + ": no catalog value to move"
            continue
        if across is None:
            row.note = "the boundary is neither a number nor a date: no value just across it"
            continue
        variants = []
        for where, value in zip(("just inside", "just outside"), across):
            typed = R.typed(value, fact.unit)
            item = dict(base.item, product=f"{rule.id}: {cmp.fact} {report.value_text(typed)} ({where})")
            item[cmp.fact] = _raw(value, fact.unit)
            variants.append((where, typed, runner.run(item, f"derived from '{base.name}'")))
        row.variants = tuple(variants)
    return rows

