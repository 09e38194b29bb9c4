"""The domains of the facts a group of rules reads, cut into cells on which every clause of the
group has one verdict, and the search over them.

Every condition of the rule set is a tree of comparisons of one fact with a constant: a literal, or
a parameter's value in force on a date. The constants a group's clauses compare a fact with cut its
domain into cells: for a quantity or a date, each threshold and listed value as a point and the open
intervals between them, within the fact's declared range; for an enum or a text, each value a
clause names and one cell for all the others; for a true/false fact, each value; for a set, whether
it includes each value a clause names (one true/false variable per value). Every clause gives the
same verdict on every value of a cell, so evaluating each rule on one value per cell, in the
explainer's three-valued logic, decides it on the whole cell. The search assigns one variable at a
time, only while some rule reading it is still unsettled, and stops as soon as every rule is: its
leaves are disjoint boxes (a set of cells per variable) that together cover the domain, each with the
set of rules that hold on all of it. This is exact for conditions of this form; a clause comparing
two facts, or a formula, would need a solver. A computed fact is compared as a fact of its own, over
its declared range (its formula may reach less of it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ampc.decide.explain import Explainer, NotStated
from ampc.rules.model import Rule, RuleSet, When, comparisons, step_of
from ampc.rules.operators import OPERATORS

OTHER_TEXT = "elsewhere"  # a free-text value that no clause names
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Cell:
    """A piece of a fact's domain on which every clause of the group has one verdict."""

    rep: Any  # the value the clauses are evaluated on: any value of the cell gives the same verdicts
    lo: Any = None  # a quantity or a date: the interval's ends (None: unbounded); lo == hi: a point
    hi: Any = None
    lo_in: bool = True
    hi_in: bool = True
    others: tuple[str, ...] = ()  # an enum's cell of the values no clause names: those values

    @property
    def point(self) -> bool:
        return self.lo is not None and self.lo == self.hi


@dataclass(frozen=True)
class Var:
    """A variable of the search: a fact, or for a set fact whether it includes one value."""

    fact: str
    type: str
    unit: str
    cells: tuple[Cell, ...]
    member: tuple[str, ...] | None = None  # a set fact: true, the set includes one of these values


@dataclass(frozen=True)
class Leaf:
    box: tuple[frozenset[int], ...]  # per variable, the cells of the region (every cell: unconstrained)
    holds: frozenset[str]  # the rules that hold on all of it
    unsettled: frozenset[str] = frozenset()  # rules the law leaves open there (a threshold not stated)


class Space:
    """The variables the clauses of some rules read, at one date."""

    def __init__(self, ruleset: RuleSet, explainer: Explainer, rules: Iterable[Rule], when: When,
                 fixed: dict[str, Any] | None = None):
        self.ruleset, self.explainer, self.when = ruleset, explainer, when
        self.fixed = dict(fixed or {})
        named: dict[str, set] = defaultdict(set)
        rules = list(rules)
        self._cmps = [c for r in rules for c in comparisons(r.when)]
        for rule in rules:
            for cmp in comparisons(rule.when):
                fact = ruleset.facts[cmp.fact]
                if fact.derived or cmp.fact in self.fixed:
                    continue
                expected = explainer.expected(cmp, when)
                values = () if isinstance(expected, NotStated) else (
                    expected if isinstance(expected, tuple) else (expected,))
                named[cmp.fact].update(values)
        self.vars: list[Var] = []
        self.members: dict[str, tuple[tuple[str, ...], ...]] = {}  # a set fact: the lists its variables test
        self.set_others: dict[str, tuple[str, ...]] = {}
        for name in sorted(named, key=lambda f: -sum(1 for r in rules for c in comparisons(r.when) if c.fact == f)):
            self.vars.extend(self._vars(name, named[name]))
        self.index = {(v.fact, v.member): i for i, v in enumerate(self.vars)}
        self.of_fact: dict[str, list[int]] = defaultdict(list)
        for i, v in enumerate(self.vars):
            self.of_fact[v.fact].append(i)

    def _vars(self, name: str, named: set) -> list[Var]:
        fact = self.ruleset.facts[name]
        if fact.type == "bool":
            return [Var(name, "bool", "", (Cell(True), Cell(False)))]
        if fact.type == "set":
            return self._set_vars(fact, named)
        if fact.type in ("enum", "text"):
            listed = tuple(v for v in fact.values if v in named) + tuple(sorted(str(v) for v in named
                                                                                if v not in fact.values))
            if fact.type == "enum":
                others = tuple(v for v in fact.values if v not in named)
            else:
                others = (OTHER_TEXT,)
            cells = [Cell(v) for v in listed] + ([Cell(others[0], others=others)] if others else [])
            return [Var(name, fact.type, "", tuple(cells))]
        return [Var(name, fact.type, fact.unit, tuple(_intervals(fact.minimum, fact.maximum, named, step_of(fact))))]

    def _set_vars(self, fact, named: set) -> list[Var]:
        """A set fact: one variable per list of values its clauses test (the set includes one of them),
        when no two lists share a value; otherwise one per value."""
        lists: list[tuple[str, ...]] = []
        for cmp in self._cmps:
            if cmp.fact == fact.name:
                expected = self.explainer.expected(cmp, self.when)
                if isinstance(expected, tuple) and expected not in lists:
                    lists.append(expected)
        values = [v for group in lists for v in group]
        if len(values) != len(set(values)):
            lists = [(v,) for v in dict.fromkeys(values)]
        self.members[fact.name] = tuple(lists)
        self.set_others[fact.name] = tuple(v for v in fact.values if v not in named)
        return [Var(fact.name, "set", "", (Cell(True), Cell(False)), member=group) for group in lists]

    def facts_of(self, assign: dict[int, int]) -> dict[str, Any] | None:
        """The product the assignment stands for (a set fact once each of its values is assigned), or
        None where it is no product (a set that would include nothing)."""
        facts = dict(self.fixed)
        sets: dict[str, dict[tuple[str, ...], bool]] = defaultdict(dict)
        for i, c in assign.items():
            var = self.vars[i]
            if var.member is None:
                facts[var.fact] = var.cells[c].rep
            else:
                sets[var.fact][var.member] = var.cells[c].rep
        for name, chosen in sets.items():
            if len(chosen) == len(self.members[name]):
                value = frozenset(group[0] for group, inc in chosen.items() if inc)
                if not value:
                    if not self.set_others[name]:
                        return None
                    value = frozenset(self.set_others[name][:1])
                facts[name] = value
        return facts

    def reads(self, rule: Rule) -> set[int]:
        return {i for c in comparisons(rule.when) for i in self.of_fact.get(c.fact, ())}

    def search(self, rules: Sequence[Rule], gate: Sequence[Rule] = ()) -> list[Leaf]:
        """The regions where each rule's result is settled, restricted to where every gate rule holds
        (the facts it concludes then known, as an earlier stage concludes them)."""
        reads = [self.reads(r) for r in rules]
        gate_reads = [self.reads(g) for g in gate]
        leaves: list[Leaf] = []
        n = len(self.vars)
        self.sample: dict[int, int] = {}  # the cells of the first region: where a gate rule holds

        def walk(assign: dict[int, int], gate_now: list, now: list) -> None:
            facts = self.facts_of(assign)
            if facts is None:
                return
            gate_now = [self._test(g, facts) if s is None else s for g, s in zip(gate, gate_now)]
            if False in gate_now:
                return
            if all(s is True for s in gate_now):
                for g in gate:
                    facts.update(g.then)
            now = [self._test(r, facts) if s is None else s for r, s in zip(rules, now)]
            open_ = [reads[k] for k, s in enumerate(now) if s is None]
            open_ += [gate_reads[k] for k, s in enumerate(gate_now) if s is None]
            wanted = sorted(set().union(*open_) - set(assign)) if open_ else []
            if not wanted:
                if not leaves:
                    self.sample = dict(assign)
                box = tuple(frozenset((assign[i],)) if i in assign else frozenset(range(len(self.vars[i].cells)))
                            for i in range(n))
                leaves.append(Leaf(box, frozenset(r.id for r, s in zip(rules, now) if s is True),
                                   frozenset(r.id for r, s in zip(rules, now) if s is None)))
                return
            i = wanted[0]
            for c in range(len(self.vars[i].cells)):
                walk({**assign, i: c}, gate_now, now)

        walk({}, [None] * len(gate), [None] * len(rules))
        return leaves

    def _test(self, rule: Rule, facts: dict[str, Any]) -> bool | None:
        return self.explainer.test(rule, rule.when, facts, self.when)  # type: ignore[arg-type]

    def witness(self, box: tuple[frozenset[int], ...], rules: Sequence[Rule]) -> dict[str, Any]:
        """One product of the region, its values chosen to show it: where the region constrains a
        fact, the cell meeting most of the rules' clauses on it (a threshold before an interval, the
        larger value on a tie: 480 V rather than 208 V, 1,000 kW rather than 600 kW); where it does
        not, a value that takes no class's side (false, an unnamed value)."""
        assign = {}
        for i, cells in enumerate(box):
            var = self.vars[i]
            full = len(cells) == len(var.cells)
            if full and i in self.sample and not any(var.fact == c.fact for r in rules for c in comparisons(r.when)):
                assign[i] = self.sample[i]  # read by the gate alone: as where it holds
                continue
            options = sorted(cells)
            if full and var.type in ("bool", "set"):
                choice = next((c for c in options if var.cells[c].rep is False), options[0])
            elif full and var.type in ("enum", "text") and any(var.cells[c].others for c in options):
                choice = next(c for c in options if var.cells[c].others)
            else:
                choice = max(options, key=lambda c: self._score(var, var.cells[c], rules))
            assign[i] = choice
        for name, groups in self.members.items():  # a set includes something: where the box allows, one list
            ids = [self.index[(name, g)] for g in groups]
            if not self.set_others[name] and ids and all(self.vars[i].cells[assign[i]].rep is False for i in ids):
                free = max((i for i in ids if 0 in box[i]), default=None,
                           key=lambda i: self._score(self.vars[i], self.vars[i].cells[0], rules))
                if free is not None:
                    assign[free] = 0
        facts = self.facts_of(assign)
        assert facts is not None  # every region holds a product: a leaf is one
        return facts

    def _score(self, var: Var, cell: Cell, rules: Sequence[Rule]) -> tuple:
        met = 0
        for rule in rules:
            for cmp in comparisons(rule.when):
                if cmp.fact != var.fact:
                    continue
                expected = self.explainer.expected(cmp, self.when)
                if isinstance(expected, NotStated):
                    continue
                if var.member is not None:
                    met += bool(set(var.member) & set(expected)) == bool(cell.rep)
                elif OPERATORS[cmp.op].test(cell.rep, expected):
                    met += 1
        size = cell.rep if isinstance(cell.rep, (Decimal, dt.date)) else 0
        fact = self.ruleset.facts[var.fact]
        inner = cell.rep not in (fact.minimum, fact.maximum)  # the ends of a range are no typical product
        return met, inner, cell.point, size


def _intervals(minimum: Any, maximum: Any, named: set, step: Any) -> list[Cell]:
    """A quantity's or a date's range cut at the values the clauses name: points and the open
    intervals between them (an interval with no value in it left out: between two consecutive days,
    or two consecutive counts of a fact counted whole)."""
    points = sorted({v for v in named if (minimum is None or v >= minimum) and (maximum is None or v <= maximum)}
                    | {b for b in (minimum, maximum) if b is not None})
    cells: list[Cell] = []
    if minimum is None:
        cells.append(_between(None, points[0] if points else None, step))
    for k, p in enumerate(points):
        cells.append(Cell(p, p, p))
        upper = points[k + 1] if k + 1 < len(points) else None
        if upper is None and maximum is not None:
            break
        if upper is not None and upper - p <= step:
            continue
        cells.append(_between(p, upper, step))
    return cells


def _between(lo: Any, hi: Any, step: Any) -> Cell:
    rep = _inside(lo, hi)
    if isinstance(rep, Decimal) and step > Decimal(1).scaleb(-18) and rep % step != 0:
        rep = (rep // step) * step  # a value the fact can take: the step below, or above if that leaves
        if lo is not None and rep <= lo:
            rep += step
    return Cell(rep, lo, hi, False, False)


def _inside(lo: Any, hi: Any) -> Any:
    """A value strictly between lo and hi (None: unbounded), as round as the interval allows."""
    if isinstance(lo, dt.date) or isinstance(hi, dt.date):
        if lo is None:
            return hi - DAY
        if hi is None:
            return lo + DAY
        return lo + (hi - lo) // 2
    if lo is None and hi is None:
        return Decimal(1)
    if lo is None:
        return hi - 1
    if hi is None:
        return lo * 2 if lo > 0 else lo + 1
    if lo > 0:  # the next round number above lo: 900 V above 800 V, 200,000 W above 125,000 W
        for e in range(lo.adjusted(), lo.adjusted() - 40, -1):
            unit = Decimal(1).scaleb(e)
            candidate = ((lo / unit).to_integral_value(rounding="ROUND_FLOOR") + 1) * unit
            if candidate < hi:
                return candidate
    mid = (lo + hi) / 2
    top = (hi - lo).adjusted() + 1
    for e in range(top, top - 40, -1):
        unit = Decimal(1).scaleb(e)
        candidate = (mid / unit).to_integral_value() * unit
        if lo < candidate < hi:
            return candidate
    return mid


def merge(leaves: Iterable[Leaf], vars_: Sequence[Var], keep: set[int] | None = None) -> list[Leaf]:
    """Regions with the same rules holding, joined where they differ in one variable only (the
    union of two such boxes is a box): fewer, larger regions covering the same products. Variables
    not in `keep` (read only by a gate rule, which holds throughout) are left out of the boxes."""
    by_outcome: dict[tuple, set] = defaultdict(set)
    for leaf in leaves:
        box = leaf.box if keep is None else tuple(
            cells if i in keep else frozenset(range(len(vars_[i].cells))) for i, cells in enumerate(leaf.box))
        by_outcome[(leaf.holds, leaf.unsettled)].add(box)
    out: list[Leaf] = []
    for (holds, unsettled), boxes in by_outcome.items():
        changed = True
        while changed:
            changed = False
            width = len(next(iter(boxes)))
            for i in range(width):
                joined: dict[tuple, set] = defaultdict(set)
                for box in boxes:
                    joined[box[:i] + box[i + 1:]].add(box[i])
                if len(joined) < len(boxes):
                    changed = True
                    boxes = {key[:i] + (frozenset().union(*parts),) + key[i:] for key, parts in joined.items()}
        out.extend(Leaf(box, holds, unsettled) for box in sorted(boxes, key=_order))
    return out


def _order(box: tuple[frozenset[int], ...]) -> tuple:
    return tuple(sorted(cells) for cells in box)


def words(var: Var, cells: frozenset[int], minimum: Any = None, maximum: Any = None) -> str:
    """What a region says of a variable, in the rules' words: 'more than 150,000 W and at most
    1,000,000 W', 'three', 'not residence', 'includes one of commercial, utility_scale'."""
    if var.member is not None:
        picked = {var.cells[c].rep for c in cells}
        if picked == {True, False}:
            return "any"
        listed = ", ".join(var.member)
        return (f"includes one of {listed}" if len(var.member) > 1 else f"includes {listed}") if True in picked \
            else f"includes none of {listed}"
    if var.type == "bool":
        return " or ".join("true" if var.cells[c].rep else "false" for c in sorted(cells))
    if var.type in ("enum", "text"):
        named = [var.cells[c].rep for c in sorted(cells) if not var.cells[c].others]
        if any(var.cells[c].others for c in cells):
            excluded = [c.rep for k, c in enumerate(var.cells) if k not in cells and not c.others]
            return "not " + " or ".join(map(str, excluded)) if excluded else "any"
        return " or ".join(map(str, named))
    runs: list[list[int]] = []
    for c in sorted(cells):
        if runs and runs[-1][-1] == c - 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    joint = " or " if all(len(r) == 1 and var.cells[r[0]].point for r in runs) else ", or "
    return joint.join(_interval_words(var.cells[r[0]], var.cells[r[-1]], var.unit, minimum, maximum) for r in runs)


def shown(value: Any, unit: str) -> str:
    from ampc.io.report import unit_text
    from ampc.rules.units import grouped
    if isinstance(value, dt.date):
        return value.isoformat()
    return f"{grouped(value)} {unit_text(unit)}".strip()


def _interval_words(first: Cell, last: Cell, unit: str, minimum: Any, maximum: Any) -> str:
    lo, lo_in, hi, hi_in = first.lo, first.lo_in, last.hi, last.hi_in
    if first.point and first is last:
        return shown(lo, unit)
    low = lo is not None and not (lo_in and lo == minimum)
    high = hi is not None and not (hi_in and hi == maximum)
    parts = []
    if low:
        parts.append(("at least " if lo_in else "more than ") + shown(lo, unit))
    if high:
        parts.append(("at most " if hi_in else "less than ") + shown(hi, unit))
    return " and ".join(parts) or "any"
