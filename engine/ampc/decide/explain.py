"""The explainer: evaluates a rule condition by condition, in three-valued logic, on exact Decimals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ampc.records.record import NotStatedByLaw
from ampc.rules.model import All, Cmp, Cond, Not, Rule, RuleSet, When, as_when
from ampc.rules.operators import OPERATORS, for_every
from ampc.rules.units import convert

Value = Any  # Decimal | str | bool | frozenset | date; None = not known
NotStated = NotStatedByLaw  # a parameter with no value in force on the date: the law states none


@dataclass(frozen=True)
class Check:
    """One condition of one rule as evaluated: the native values compared and the result. The
    decider turns it into a records.Clause; nothing here is written for a person."""

    cmp: Cmp
    expected: Any  # the threshold in the fact's unit (a tuple for one_of), or NotStatedByLaw
    actual: Value  # None: not given
    passed: bool | None  # None: the fact is not known, or the law states no threshold
    since: dt.date | None  # the date from which the parameter value used is in force
    path: str  # where in the condition tree: "all", "all[2]/any[1]"
    derived: bool = False  # the fact is concluded by an earlier stage (the kind of component)

    @property
    def fact(self) -> str:
        return self.cmp.fact


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    result: bool | None
    checks: tuple[Check, ...]
    decisive: tuple[Check, ...] = field(default=())  # the checks that decided the result (failed or held)
    unknown: tuple[str, ...] = field(default=())  # facts whose absence left it undetermined


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

    def since(self, cmp: Cmp, when: When | dt.date) -> dt.date | None:
        """The date from which the parameter value used is in force (None for a literal)."""
        if not cmp.param:
            return None
        entry = self.ruleset.params[cmp.param].entry(when)
        return entry.start if entry else None

    def _resolve(self, cmp: Cmp, when: When) -> Any:
        param = self.ruleset.params[cmp.param]
        value = param.at(when)
        if value is None:
            return NotStatedByLaw(cmp.param, when.date_for(param.keyed_on))
        fact = self.ruleset.facts[cmp.fact]
        if fact.type != "quantity" or param.unit == fact.unit:
            return value
        if isinstance(value, tuple):
            return tuple(convert(v, param.unit, fact.unit) for v in value)
        return convert(value, param.unit, fact.unit)

    def test(self, rule: Rule, cond: Cond, facts: dict[str, Value], as_of: dt.date) -> bool | None:
        """A condition's three-valued result on the facts (a rule's review_if)."""
        return self._eval(rule, cond, facts, as_of, [], {}, "")

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
        from ampc.rules.formula import facts_used
        fact = self.ruleset.facts[name]
        if not fact.computed:
            return [name]
        return [f for used in facts_used(fact.computed) if facts.get(used) is None for f in self._inputs(used, facts)]

    def holds(self, cmp: Cmp, facts: dict[str, Value], as_of: dt.date) -> bool | None:
        actual = facts.get(cmp.fact)
        expected = self.expected(cmp, as_of)
        if actual is None:
            return None
        if isinstance(expected, NotStatedByLaw):  # decided only where every threshold it could be agrees
            fact = self.ruleset.facts[cmp.fact]
            return for_every(cmp.op, actual, fact.minimum, fact.maximum)
        return OPERATORS[cmp.op].test(actual, expected)

    def _eval(self, rule: Rule, cond: Cond, facts: dict, as_of: dt.date, out: list, seen: dict,
              path: str) -> bool | None:
        if isinstance(cond, Cmp):
            passed = self.holds(cond, facts, as_of)
            check = Check(cond, self.expected(cond, as_of), facts.get(cond.fact), passed,
                          self.since(cond, as_of), path or "all", self.ruleset.facts[cond.fact].derived)
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
