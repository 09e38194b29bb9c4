"""The explainer: evaluates a rule condition by condition, in three-valued logic, on exact Decimals."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ampc.records.record import NotStatedByLaw
from ampc.rules.model import All, Cmp, Cond, FactDef, Not, Rule, RuleSet, When, as_when
from ampc.rules.operators import OPERATORS, for_every
from ampc.rules.units import convert

Value = Any  # Decimal | str | bool | frozenset | date; None = not known
NotStated = NotStatedByLaw  # a parameter with no value in force on the date: the law states none


class Check(NamedTuple):
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


KEPT = 16_384  # thresholds kept, by condition and the eras of its parameters (all dropped when full)
_LEAF, _NOT, _ALL, _ANY = range(4)  # the kinds of a laid-out condition's nodes


class _Leaf(NamedTuple):
    """One comparison of a laid-out condition, with what evaluating it needs at hand."""

    cmp: Cmp
    path: str
    derived: bool
    test: Callable[[Any, Any], bool]
    fact: FactDef
    keyed_on: str  # the date its parameter is keyed to ("" for a literal)
    starts: tuple[dt.date, ...]  # the dates its parameter's values start, sorted
    stated: tuple[bool, ...]  # for each, whether the law states a value from then (null: it ends)


class _Plan(NamedTuple):
    """A condition laid out: its comparisons in the order read and its nodes in post-order, each
    (_LEAF, leaf index), (_NOT, child node) or (_ALL or _ANY, child nodes)."""

    cond: Cond  # kept, so that the id it is filed under is not reused
    leaves: tuple[_Leaf, ...]
    nodes: tuple[tuple[int, Any], ...]


class Explainer:
    """Evaluates rules against normalized facts; caches parameter values per as-of date."""

    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self._expected: dict[tuple[int, dt.date], Any] = {}
        self._plans: dict[int, _Plan] = {}  # by the id of the condition laid out
        self._by_era: dict[tuple, tuple[tuple[Any, dt.date | None], ...]] = {}

    def expected(self, cmp: Cmp, when: When | dt.date) -> Any:
        if not cmp.param:
            return cmp.literal
        day = as_when(when).date_for(self.ruleset.params[cmp.param].keyed_on)
        key = (id(cmp), day)
        if key not in self._expected:
            if len(self._expected) >= KEPT:  # bounded: all dropped when full
                self._expected.clear()
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

    def test(self, rule: Rule, cond: Cond, facts: dict[str, Value], as_of: When | dt.date) -> bool | None:
        """A condition's three-valued result on the facts (a rule's review_if)."""
        plan = self._plans.get(id(cond)) or self._lay_out(cond)
        return self._run(plan, facts, as_when(as_of))[0][-1]

    def evaluate(self, rule: Rule, facts: dict[str, Value], as_of: When | dt.date) -> RuleResult:
        plan = self._plans.get(id(rule.when)) or self._lay_out(rule.when)
        results, checks = self._run(plan, facts, as_when(as_of))
        result = results[-1]
        if result is None:
            decisive: tuple[Check, ...] = ()
        else:  # False: the clauses that failed it; True: the clauses that made it hold
            out: list[Check] = []
            _decisive(plan.nodes, results, checks, len(plan.nodes) - 1, result, out)
            decisive = tuple(out)
        unknown = self._settling_facts(plan, results, facts) if result is None else ()
        return RuleResult(rule, result, checks, decisive, unknown)

    def _lay_out(self, cond: Cond) -> _Plan:
        """The condition laid out once: its comparisons in the order read, each with its path, and
        its nodes in post-order (the root last)."""
        leaves: list[_Leaf] = []
        nodes: list[tuple[int, Any]] = []

        def walk(node: Cond, path: str) -> int:
            if isinstance(node, Cmp):
                fact = self.ruleset.facts[node.fact]
                param = self.ruleset.params[node.param] if node.param else None
                values = sorted(param.values, key=lambda v: v.start) if param else []
                leaves.append(_Leaf(node, path or "all", fact.derived, OPERATORS[node.op].test, fact,
                                    param.keyed_on if param else "", tuple(v.start for v in values),
                                    tuple(v.value is not None for v in values)))
                nodes.append((_LEAF, len(leaves) - 1))
            elif isinstance(node, Not):
                nodes.append((_NOT, walk(node.item, f"{path}/not")))
            else:
                kind = "all" if isinstance(node, All) else "any"
                children = tuple(walk(item, f"{path}/{kind}[{i + 1}]" if path else f"{kind}[{i + 1}]")
                                 for i, item in enumerate(node.items))
                nodes.append((_ALL if kind == "all" else _ANY, children))
            return len(nodes) - 1
        walk(cond, "")
        plan = self._plans[id(cond)] = _Plan(cond, tuple(leaves), tuple(nodes))
        return plan

    def _thresholds(self, plan: _Plan, when: When) -> tuple[tuple[Any, dt.date | None], ...]:
        """Each comparison's threshold and the date its value is in force from, on the dates. They
        change only where one of the parameters read gets a new value, so they are kept by the
        parameters' eras (the count of values started on or before the key date; where no value is in
        force, before the first or after one that ends it, the date itself, which a threshold the law
        does not state names)."""
        era = []
        for leaf in plan.leaves:
            if leaf.keyed_on:
                day = getattr(when, leaf.keyed_on)
                count = bisect.bisect_right(leaf.starts, day)
                era.append(count if count and leaf.stated[count - 1] else day)
        key = (id(plan), *era)
        out = self._by_era.get(key)
        if out is None:
            if len(self._by_era) >= KEPT:
                self._by_era.clear()
            out = self._by_era[key] = tuple((self.expected(leaf.cmp, when), self.since(leaf.cmp, when))
                                            for leaf in plan.leaves)
        return out

    def _run(self, plan: _Plan, facts: dict[str, Value], when: When) -> tuple[list, tuple[Check, ...]]:
        """Every node's three-valued result (by node, the root last) and the checks, in order."""
        checks: list[Check] = []
        passed: list[bool | None] = []
        for leaf, (expected, since) in zip(plan.leaves, self._thresholds(plan, when)):
            actual = facts.get(leaf.cmp.fact)
            if actual is None:
                result = None
            elif expected.__class__ is NotStatedByLaw:  # decided only where every threshold it could be agrees
                result = for_every(leaf.cmp.op, actual, leaf.fact.minimum, leaf.fact.maximum)
            else:
                result = leaf.test(actual, expected)
            passed.append(result)
            checks.append(Check(leaf.cmp, expected, actual, result, since, leaf.path, leaf.derived))
        results: list[bool | None] = []
        for kind, arg in plan.nodes:
            if kind == _LEAF:
                results.append(passed[arg])
            elif kind == _NOT:
                inner = results[arg]
                results.append(None if inner is None else not inner)
            else:
                parts = [results[n] for n in arg]
                if kind == _ALL:
                    results.append(False if False in parts else (None if None in parts else True))
                else:
                    results.append(True if True in parts else (None if None in parts else False))
        return results, tuple(checks)

    def _settling_facts(self, plan: _Plan, results: list, facts: dict) -> tuple[str, ...]:
        """The facts, not given, that would settle an undetermined condition: only from the branches
        still open, and for a computed fact the inputs it lacks (a catalog gives those, not it)."""
        out: list[str] = []

        def walk(n: int) -> None:
            if results[n] is not None:
                return
            kind, arg = plan.nodes[n]
            if kind == _LEAF:
                fact = plan.leaves[arg].cmp.fact
                if facts.get(fact) is None:
                    out.extend(self._inputs(fact, facts))
            elif kind == _NOT:
                walk(arg)
            else:
                for child in arg:
                    walk(child)
        walk(len(plan.nodes) - 1)
        return tuple(dict.fromkeys(out))

    def _inputs(self, name: str, facts: dict) -> list[str]:
        from ampc.rules.formula import facts_used
        fact = self.ruleset.facts[name]
        if not fact.computed:
            return [name]
        return [f for used in facts_used(fact.computed) if facts.get(used) is None for f in self._inputs(used, facts)]


def _decisive(nodes: tuple, results: list, checks: tuple, n: int, want: bool, out: list) -> None:
    """The checks that gave node n the value `want` (False: the failed clauses an auditor needs)."""
    if results[n] is not want:
        return
    kind, arg = nodes[n]
    if kind == _LEAF:
        out.append(checks[arg])
    elif kind == _NOT:
        _decisive(nodes, results, checks, arg, not want, out)
    else:
        for child in arg:
            _decisive(nodes, results, checks, child, want, out)
