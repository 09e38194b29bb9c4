"""The explainer: evaluates a rule condition by condition, in three-valued logic, on exact Decimals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .model import All, Cmp, Cond, FactDef, Not, Rule, RuleSet, When, as_when
from .operators import OPERATORS, words
from .units import convert, grouped

Value = Any  # Decimal | str | bool | frozenset | date; None = not known


class NotStated:
    """A parameter with no value in force on the date: the law states none. A condition against it
    is undetermined, and the decision is flagged for review; it is never guessed."""

    def __init__(self, param: str, day: dt.date):
        self.param, self.day = param, day

    def __repr__(self) -> str:
        return f"not stated for {self.day}"


@dataclass(frozen=True)
class Check:
    """One condition of one rule, with the actual value, the threshold and the result."""

    rule: str
    clause: str
    fact: str
    operator: str
    expected: str  # shown: "1,000,000 W"
    actual: str  # shown: "1,200,000 W", or "not given"
    unit: str
    passed: bool | None  # None: the fact is not known
    citation: str
    param: str = ""
    path: str = ""  # where in the condition tree: "all", "all/any[2]/all"
    derived: bool = False
    param_since: str = ""  # the date from which the parameter value used is in force

    def sentence(self) -> str:
        if self.passed is None and self.expected.startswith("(no value stated"):
            return f"{self.fact} {self.actual}: the threshold is {self.expected[1:-1]} ({self.param})"
        if self.passed is None:
            return f"{self.fact} is not given (needed: {self.fact} {words(self.operator, True)} {self.expected})"
        is_set = self.actual.startswith("{")
        return f"{self.fact} {self.actual} {words(self.operator, bool(self.passed), is_set)} {self.expected}"

    def to_dict(self) -> dict:
        return {"rule": self.rule, "clause": self.clause, "fact": self.fact, "operator": self.operator,
                "expected": self.expected, "actual": self.actual, "unit": self.unit,
                "passed": self.passed, "citation": self.citation, "param": self.param,
                "param_since": self.param_since, "path": self.path}


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    result: bool | None
    checks: tuple[Check, ...]
    decisive: tuple[Check, ...] = field(default=())  # the checks that decided the result (failed or held)
    unknown: tuple[str, ...] = field(default=())  # facts whose absence left it undetermined


def show(value: Value, fact: FactDef) -> str:
    if value is None:
        return "not given"
    if isinstance(value, NotStated):
        return f"(no value stated in the law for {value.day})"
    if isinstance(value, tuple):
        parts = [show(v, fact) for v in value]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{grouped(value)} {pretty_unit(fact.unit)}".strip()
    return str(value)


_PRETTY = {"percent": "%", "count": "", "**2": "²", "**3": "³"}


def pretty_unit(unit: str) -> str:
    """A unit as a person writes it: cm**2 -> cm², percent -> %, count -> (nothing)."""
    if unit in ("percent", "count"):
        return _PRETTY[unit]
    return unit.replace("**2", "²").replace("**3", "³")


class Explainer:
    """Evaluates rules against normalized facts; caches parameter values per as-of date."""

    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self._expected: dict[tuple[int, dt.date], Any] = {}

    def expected(self, cmp: Cmp, when: When | dt.date) -> Any:
        if not cmp.param:
            return cmp.literal
        day = as_when(when).date_for(self.ruleset.params[cmp.param].keyed_on)
        key = (id(cmp), day)
        if key not in self._expected:
            self._expected[key] = self._resolve(cmp, as_when(when))
        return self._expected[key]

    def since(self, cmp: Cmp, when: When | dt.date) -> str:
        """The date from which the parameter value used is in force ('' for a literal)."""
        if not cmp.param:
            return ""
        entry = self.ruleset.params[cmp.param].entry(when)
        return entry.start.isoformat() if entry else ""

    def _resolve(self, cmp: Cmp, when: When) -> Any:
        param = self.ruleset.params[cmp.param]
        value = param.at(when)
        if value is None:
            return NotStated(cmp.param, when.date_for(param.keyed_on))
        fact = self.ruleset.facts[cmp.fact]
        if fact.type != "quantity" or param.unit == fact.unit:
            return value
        if isinstance(value, tuple):
            return tuple(convert(v, param.unit, fact.unit) for v in value)
        return convert(value, param.unit, fact.unit)

    def evaluate(self, rule: Rule, facts: dict[str, Value], as_of: dt.date) -> RuleResult:
        checks: list[Check] = []
        seen: dict[int, tuple[bool | None, Check | None]] = {}
        result = self._eval(rule, rule.when, facts, as_of, checks, seen, "")
        if result is None:
            decisive = ()
        else:  # False: the clauses that failed it; True: the clauses that made it hold
            decisive = tuple(self._decisive(rule.when, seen, result))
        unknown = self._settling_facts(rule.when, seen, facts) if result is None else ()
        return RuleResult(rule, result, tuple(checks), decisive, unknown)

    def _settling_facts(self, cond: Cond, seen: dict, facts: dict) -> tuple[str, ...]:
        """The facts, not given, that would settle an undetermined condition: only from the branches
        still open, and for a computed fact the inputs it lacks (a catalog gives those, not it)."""
        out: list[str] = []

        def walk(node: Cond) -> None:
            result, check = seen[id(node)]
            if result is not None:
                return
            if check is not None:
                if facts.get(check.fact) is None:
                    out.extend(self._inputs(check.fact, facts))
                return
            for child in ((node.item,) if isinstance(node, Not) else node.items):
                walk(child)
        walk(cond)
        return tuple(dict.fromkeys(out))

    def _inputs(self, name: str, facts: dict) -> list[str]:
        from .formula import facts_used
        fact = self.ruleset.facts[name]
        if not fact.computed:
            return [name]
        return [f for used in facts_used(fact.computed) if facts.get(used) is None for f in self._inputs(used, facts)]

    def holds(self, cmp: Cmp, facts: dict[str, Value], as_of: dt.date) -> bool | None:
        actual = facts.get(cmp.fact)
        expected = self.expected(cmp, as_of)
        if actual is None or isinstance(expected, NotStated):
            return None
        return OPERATORS[cmp.op].test(actual, expected)

    def _eval(self, rule: Rule, cond: Cond, facts: dict, as_of: dt.date, out: list, seen: dict,
              path: str) -> bool | None:
        if isinstance(cond, Cmp):
            passed = self.holds(cond, facts, as_of)
            fact = self.ruleset.facts[cond.fact]
            check = Check(rule.id, cond.clause, cond.fact, cond.op,
                          show(self.expected(cond, as_of), fact), show(facts.get(cond.fact), fact),
                          fact.unit, passed, rule.citation(), cond.param, path or "all", fact.derived,
                          self.since(cond, as_of))
            out.append(check)
            seen[id(cond)] = (passed, check)
            return passed
        if isinstance(cond, Not):
            inner = self._eval(rule, cond.item, facts, as_of, out, seen, f"{path}/not")
            result = None if inner is None else not inner
        else:
            kind = "all" if isinstance(cond, All) else "any"
            results = [self._eval(rule, item, facts, as_of, out, seen,
                                  f"{path}/{kind}[{i + 1}]" if path else f"{kind}[{i + 1}]")
                       for i, item in enumerate(cond.items)]
            if kind == "all":
                result = False if False in results else (None if None in results else True)
            else:
                result = True if True in results else (None if None in results else False)
        seen[id(cond)] = (result, None)
        return result

    def _decisive(self, cond: Cond, seen: dict, want: bool = False) -> list[Check]:
        """The checks that gave cond the value `want` (False: the failed clauses an auditor needs)."""
        result, check = seen[id(cond)]
        if result is not want:
            return []
        if check is not None:
            return [check]
        if isinstance(cond, Not):
            return self._decisive(cond.item, seen, not want)
        out: list[Check] = []
        for item in cond.items:
            out.extend(self._decisive(item, seen, want))
        return out
