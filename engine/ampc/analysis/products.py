"""Products at every boundary the rules state, for the check that the engine and the explainer agree.

For each kind of component the rules name, a product gives the facts that kind's rules test: every
quantity and date at, just inside and just outside each threshold a rule compares it with (read from
the rules' own literals and parameters, in the fact's canonical unit, so a changed threshold moves
the products with it), every allowed value of an enum or set, both booleans, and facts left out.
A computed fact is not given: its inputs are, solved so that it lands on those same boundaries.
The as-of dates (sale, production, taxable year) fall around every date a rule comes into or goes
out of force and every date a parameter value starts. Each product leans on one rule per stage
(its facts drawn mostly from that rule's own values), so that class boundaries are met, not only
approached.

One generator serves the property test (hypothesis draws) and bench/agreement_bench.py (a seeded
random.Random): it draws through a `pick(options)` function (one element of a sequence), so neither
copies the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, localcontext
from typing import Any

from ampc.rules.formula import evaluate as compute
from ampc.rules.formula import facts_used
from ampc.rules.formula import quantity_of as evaluate_formula
from ampc.rules.model import Cmp, Cond, FactDef, Not, Rule, RuleSet, When, comparisons
from ampc.rules.units import UnitError, convert, registry

Pick = Callable[[Sequence[Any]], Any]

# just inside and just outside a threshold: whole units, thousandths, and the 18th decimal place
# (the engine compares exactly to 18 places)
DELTAS = tuple(Decimal(d) for d in ("0", "1", "-1", "0.001", "-0.001", "1E-15", "-1E-15", "1E-18", "-1E-18"))
DAY = dt.timedelta(days=1)
SPARSITY = (0, 0, 1, 2, 4)  # out of 8: how often a product leaves a fact out (none, 1/8, 1/4, 1/2)
EIGHTHS, QUARTERS = tuple(range(8)), tuple(range(4))
LEAN = 3  # out of 4: how often a product leans on one rule of a stage
FOCUS = 7  # out of 8: how often a fact of the rule a product leans on takes that rule's own values
# the magnitudes the generator gives a formula's other inputs (a spread for testing, not a figure of the law)
SCALES = tuple(Decimal(v) for v in ("0", "10", "100", "1000", "1000000"))
CACHED = 100_000  # solved and computed inputs kept
OTHER_TEXT = "elsewhere"  # a free-text value that no rule names
KEYS = tuple(f.name for f in fields(When))  # the dates law is keyed on: sale, production, taxable_year


def negated(cond: Cond, inside: bool = False) -> set[str]:
    """The facts the condition compares under a `not` (an odd number of them)."""
    if isinstance(cond, Cmp):
        return {cond.fact} if inside else set()
    if isinstance(cond, Not):
        return negated(cond.item, not inside)
    return set().union(*(negated(item, inside) for item in cond.items))


def kinds(ruleset: RuleSet) -> list[str]:
    """Every kind of component a rule names (a rule for several kinds names each)."""
    return sorted({f for r in ruleset.rules for f in r.families} - {"any"})


def thresholds(ruleset: RuleSet, cmp: Cmp) -> list[Any]:
    """Every value the comparison is made against, over all the parameter's values, in the fact's unit."""
    if not cmp.param:
        values = cmp.literal if isinstance(cmp.literal, tuple) else (cmp.literal,)
        return list(values)
    param = ruleset.params[cmp.param]
    unit = ruleset.facts[cmp.fact].unit
    out = []
    for entry in param.values:
        for value in entry.value if isinstance(entry.value, tuple) else (entry.value,):
            if value is not None:
                out.append(convert(value, param.unit, unit) if param.unit != unit else value)
    return out


def holdable(fact: FactDef, value: Any) -> bool:
    """Whether a catalog can give the quantity this value: within the fact's declared range and a
    whole multiple of its declared precision (the reader refuses any other; those are bad rows)."""
    if not isinstance(value, Decimal):
        return True
    if fact.minimum is not None and value < fact.minimum or fact.maximum is not None and value > fact.maximum:
        return False
    return fact.precision is None or value % fact.precision == 0


def around(points: list[Any]) -> tuple[Any, ...]:
    """Each point and its neighbours on both sides: for a date the day before and after."""
    out: set[Any] = set()
    for point in points:
        if isinstance(point, dt.date):
            out.update((point - DAY, point, point + DAY))
        else:
            with localcontext() as ctx:
                ctx.prec = 60  # 1,000,000 W and 1E-18 W must add exactly
                out.update(point + d for d in DELTAS)
    return tuple(sorted(out))


@dataclass(frozen=True)
class Options:
    """The values a product draws one fact from."""

    fact: FactDef
    values: tuple[Any, ...]  # a set fact: the members a product includes (each with even odds)


@dataclass(frozen=True)
class Formula:
    """A computed fact, reached through its inputs: one input (appearing once in the formula) is
    solved for a target value of the fact; the others are drawn from round magnitudes."""

    fact: FactDef
    free: str | None
    others: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """How to draw products of one kind: its facts, its computed facts, the rules it leans on."""

    kind: str
    facts: tuple[str, ...]  # given directly (not derived, not computed)
    formulas: tuple[Formula, ...]
    general: dict[str, Options]  # every fact tested, drawn from all its rules' values
    focus: tuple[tuple[Rule, ...], ...]  # per stage, the rules a product may lean on
    local: dict[str, dict[str, Options]]  # rule id -> fact -> that rule's own values


class Products:
    """Draws products of every kind, and their as-of dates, from one rule set."""

    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self.kinds = kinds(ruleset)
        self.plans = {kind: self._plan(kind) for kind in self.kinds}
        self.dates = self._dates()
        self._cache: dict[tuple, Decimal | None] = {}  # solved and computed inputs (they repeat)

    # -- planning, once per rule set ----------------------------------------------------------
    def _plan(self, kind: str) -> Plan:
        rs = self.ruleset
        rules = [r for r in rs.rules if r.applies_to(kind)]
        general = self._options([c for r in rules for c in comparisons(r.when)], own=False)
        local = {r.id: self._options(comparisons(r.when), own=True, broad=negated(r.when)) for r in rules}
        formulas = self._formulas([name for name in general if rs.facts[name].computed])
        inputs = {i for f in formulas for i in ((f.free,) if f.free else ()) + f.others}
        kind_fact = rs.role("kind")
        facts = tuple(n for n in general if not rs.facts[n].computed and n not in inputs and n != kind_fact)
        focus = tuple(tuple(r for r in rules if r.stage == s.name) for s in rs.stages)
        return Plan(kind, facts, formulas, general, focus, local)

    def _options(self, cmps: list[Cmp], own: bool, broad: set[str] = frozenset()) -> dict[str, Options]:
        """fact -> the values to draw it from, for the given comparisons (derived facts excluded):
        around their thresholds; for a boolean, enum or set every allowed value, or with `own` only
        the values the comparisons name (not for a fact compared under a `not`, which holds on
        the others)."""
        rs = self.ruleset
        found: dict[str, list[Any]] = {}
        for cmp in cmps:
            if rs.facts[cmp.fact].derived:
                continue
            found.setdefault(cmp.fact, []).extend(thresholds(rs, cmp))
        out = {}
        for name, points in found.items():
            fact = rs.facts[name]
            own = own and name not in broad
            if fact.type == "bool":
                values: tuple[Any, ...] = tuple(sorted(set(points))) if own else (False, True)
            elif fact.type in ("enum", "set"):
                values = tuple(dict.fromkeys(points)) if own else fact.values
            elif fact.type == "text":
                values = (*dict.fromkeys(points), OTHER_TEXT)
            else:  # a rule's own thresholds: half the draws exactly at one
                values = around(points) + (tuple(sorted(set(points))) * len(DELTAS) if own else ())
                values = tuple(v for v in values if holdable(fact, v)) or values
            out[name] = Options(fact, values)
        return out

    def _formulas(self, names: list[str]) -> tuple[Formula, ...]:
        """The computed facts, each with an input of its own to solve for (one its formula uses once,
        and no earlier formula uses): the simpler formulas first, so each gets one."""
        vocab = self.ruleset.facts
        formulas = sorted((vocab[n] for n in names), key=lambda f: (len(facts_used(f.computed)), f.name))
        taken: set[str] = set()
        out = []
        for fact in formulas:
            inputs = facts_used(fact.computed)
            once = [i for i in dict.fromkeys(inputs)
                    if inputs.count(i) == 1 and i not in taken and not vocab[i].computed]
            free = once[0] if once else None
            out.append(Formula(fact, free, tuple(i for i in dict.fromkeys(inputs) if i != free)))
            taken.update(inputs)
        return tuple(out)

    def _dates(self) -> dict[str, tuple[dt.date, ...]]:
        """Per key date (sale, production, taxable year): every date at which law keyed on it changes."""
        points: dict[str, set[dt.date]] = {key: set() for key in KEYS}
        for rule in self.ruleset.rules:
            points[rule.keyed_on].update((rule.in_force_from - DAY, rule.in_force_from))
            if rule.in_force_to:
                points[rule.keyed_on].update((rule.in_force_to, rule.in_force_to + DAY))
        for param in self.ruleset.params.values():
            for entry in param.values:
                points[param.keyed_on].update((entry.start - DAY, entry.start))
        every = set().union(*points.values())
        return {key: tuple(sorted(points[key] or every)) for key in KEYS}

    # -- drawing --------------------------------------------------------------------------------
    def when(self, pick: Pick) -> When:
        return When(sale=pick(self.dates["sale"]), production=pick(self.dates["production"]),
                    taxable_year=pick(self.dates["taxable_year"]))

    def product(self, kind: str, pick: Pick) -> dict[str, Any]:
        """One product of the kind: normalized facts as the catalog reader hands them to the decider."""
        plan = self.plans[kind]
        sparsity = pick(SPARSITY)
        local: dict[str, list[Options]] = {}
        for rules in plan.focus:  # in each stage, most often one rule
            if rules and pick(QUARTERS) < LEAN:
                for name, options in plan.local[pick(rules).id].items():
                    local.setdefault(name, []).append(options)

        def options_for(name: str) -> Options:
            own = local.get(name)
            if own and pick(EIGHTHS) < FOCUS:
                return pick(own)
            return plan.general[name]

        facts: dict[str, Any] = {self.ruleset.role("kind"): kind}
        for name in plan.facts:
            if pick(EIGHTHS) < sparsity:
                continue
            facts[name] = self._value(options_for(name), pick)
        self._inputs(plan, facts, sparsity, options_for, pick)
        return facts

    def _value(self, options: Options, pick: Pick) -> Any:
        fact = options.fact
        if fact.type == "set":  # each member in or out; a rule's own set: one of its values surely in
            chosen = {v for v in fact.values if pick((False, True))}
            if len(options.values) < len(fact.values):
                chosen.add(pick(options.values))
            return frozenset(chosen)
        return pick(options.values)

    def _inputs(self, plan: Plan, facts: dict, sparsity: int, options_for: Callable[[str], Options],
                pick: Pick) -> None:
        """Give the inputs of the computed facts (each input once, though formulas share some) so
        that each lands on a drawn value; then compute them, as the catalog reader does."""
        settled: set[str] = set()
        for formula in plan.formulas:
            for name in formula.others:
                if name not in settled:
                    settled.add(name)
                    if pick(EIGHTHS) >= sparsity:
                        facts[name] = pick(SCALES)
            if formula.free is not None:  # the plan gives each formula a free input of its own
                settled.add(formula.free)
                target = pick(options_for(formula.fact.name).values)
                if pick(EIGHTHS) >= sparsity:
                    value = self._solved(formula, target, facts)
                    if value is not None:
                        facts[formula.free] = value
        for formula in plan.formulas:
            value = self._computed(formula, facts)
            if value is not None:
                facts[formula.fact.name] = value

    def _solved(self, formula: Formula, target: Decimal, facts: dict) -> Decimal | None:
        key = (formula.fact.name, target, tuple(facts.get(name) for name in formula.others))
        if len(self._cache) > CACHED:
            self._cache.clear()
        if key not in self._cache:
            quantity = registry().Quantity(target, formula.fact.unit)
            self._cache[key] = self._solve(formula.fact.computed, quantity, formula.free, facts)
        return self._cache[key]

    def _computed(self, formula: Formula, facts: dict) -> Decimal | None:
        """The computed fact from its inputs; None if one is not given, or they divide by zero (a
        catalog reports such a row as an error; here the fact is simply not given)."""
        inputs = tuple(dict.fromkeys(facts_used(formula.fact.computed)))
        key = (formula.fact.name, None, tuple(facts.get(name) for name in inputs))
        if key not in self._cache:
            try:
                self._cache[key] = compute(formula.fact, facts, self.ruleset.facts)
            except UnitError:
                self._cache[key] = None
        return self._cache[key]

    def _solve(self, node: Any, target: Any, free: str, facts: dict) -> Decimal | None:
        """The value of `free` (which the formula uses once) that makes the formula equal target,
        kept to 18 places; None if the other inputs leave no such value (a zero divisor)."""
        vocab = self.ruleset.facts
        with localcontext() as ctx:
            ctx.prec = 60
            while not (isinstance(node, str) and node == free):
                (op, operands), = node.items()
                index = next(i for i, o in enumerate(operands) if free in facts_used(o))
                others = [evaluate_formula(o, facts, vocab) for i, o in enumerate(operands) if i != index]
                if any(o is None for o in others):
                    return None
                try:
                    target = _invert(op, index, target, others)
                except ZeroDivisionError:
                    return None
                node = operands[index]
            magnitude = Decimal(target.to(vocab[free].unit).magnitude).quantize(Decimal("1E-18")).normalize()
            return magnitude if holdable(vocab[free], magnitude) else None


def _invert(op: str, index: int, target: Any, others: list[Any]) -> Any:
    """The operand at `index` such that op(operands) = target, given the other operands in order
    (pint quantities). A difference or ratio takes its first operand and subtracts or divides by
    each of the rest."""
    first, rest = (others[0], others[1:]) if index > 0 else (None, others)
    if op == "sum":
        return _fold(target, others, lambda a, b: a - b)
    if op == "difference" and index == 0:
        return _fold(target, rest, lambda a, b: a + b)
    if op == "difference":
        return _fold(first - target, rest, lambda a, b: a - b)
    if op == "product":
        return target / _nonzero(_fold(1, others, lambda a, b: a * b))
    if index == 0:  # ratio
        return _fold(target, rest, lambda a, b: a * b)
    return first / _nonzero(_fold(target, rest, lambda a, b: a * b))


def _fold(value: Any, operands: list[Any], step: Callable[[Any, Any], Any]) -> Any:
    for operand in operands:
        value = step(value, operand)
    return value


def _nonzero(value: Any) -> Any:
    if getattr(value, "magnitude", value) == 0:
        raise ZeroDivisionError
    return value


def compare(decider: Any, facts: dict[str, Any], when: When) -> tuple[str | None, dict[str, Any]]:
    """Decide one product in the engine and in the explainer: how they differ (None when they
    agree), and the explainer's result for each rule (every stage evaluated). In each stage the
    engine ran (it stops at a stage that settles the product), the rules fired must be those the
    explainer holds; and the facts those stages derive the same."""
    engine = decider.engine(facts, when)
    results, derived = decider.explain(facts, when)
    stopped = decider.reached(facts, when, results) - set(engine.stages_run)
    if stopped:
        return f"the engine stopped before stage(s) {sorted(stopped)}, which the decision reaches", results
    for stage in engine.stages_run:
        fired = engine.fired[stage]
        held = sorted(rid for rid, r in results.items() if r.rule.stage == stage and r.result is True)
        if sorted(fired) != held:
            return f"stage {stage}: the engine fired {sorted(fired)}, the explainer holds {held}", results
    run = {f for r in decider.ruleset.rules if r.stage in engine.stages_run for f in r.then}
    derived = {k: v for k, v in derived.items() if k in run}
    if engine.derived != derived:  # false included: a true/false fact no rule concludes is false
        return f"derived facts: the engine {engine.derived}, the explainer {derived}", results
    return None, results
