"""The constraints a rule's clauses put on one fact, for ampc.analysis.qualify: the bounds, the values
allowed and excluded, and the value meeting them all that is nearest the product's own; and a
record's typed value as the deciding code holds it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ampc.records import record as R
from ampc.rules.model import Cmp, FactDef, Rule, step_of
from ampc.rules.units import COMPARED_PLACES

STEP = Decimal(1).scaleb(-COMPARED_PLACES)  # the finest difference the engine tells apart
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Why:
    rule: Rule
    cmp: Cmp
    op: str  # as it must hold
    threshold: Any  # in the fact's unit (a tuple for one_of), or R.NotStatedByLaw
    unstated: str | None = None  # the parameter with no value on the date, whose every value this meets


@dataclass(frozen=True)
class Need:
    """What one fact must be for the clauses on it to hold together."""

    lo: Any = None
    lo_open: bool = False
    hi: Any = None
    hi_open: bool = False
    allowed: frozenset | None = None  # None: any value
    excluded: frozenset = frozenset()
    groups: tuple[frozenset, ...] = ()  # a set fact: members it must include one of, each
    forbid: frozenset = frozenset()  # a set fact: members it must include none of
    stated: bool = True  # False: a threshold the law does not state, that no value settles
    why: tuple[Why, ...] = ()

    def merge(self, other: Need) -> Need:
        lo, lo_open = _tighter(self.lo, self.lo_open, other.lo, other.lo_open, max)
        hi, hi_open = _tighter(self.hi, self.hi_open, other.hi, other.hi_open, min)
        allowed = other.allowed if self.allowed is None else (
            self.allowed if other.allowed is None else self.allowed & other.allowed)
        return Need(lo, lo_open, hi, hi_open, allowed, self.excluded | other.excluded, self.groups + other.groups,
                    self.forbid | other.forbid, self.stated and other.stated, self.why + other.why)

    def holds(self, actual: Any) -> bool:
        if actual is None or not self.stated:
            return False
        if isinstance(actual, frozenset):
            return all(actual & g for g in self.groups) and not actual & self.forbid and (
                self.allowed is None or actual in self.allowed)
        return self._in_bounds(actual) and (self.allowed is None or actual in self.allowed) \
            and actual not in self.excluded

    def _in_bounds(self, v: Any) -> bool:
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            return False
        return not (self.hi is not None and (v > self.hi or (self.hi_open and v == self.hi)))

    def nearest(self, actual: Any, fact: FactDef) -> Any:
        """The value meeting every clause nearest the actual one (None: no value meets them all)."""
        if fact.type == "set":
            have = set(actual or ()) - self.forbid
            for group in self.groups:
                if not have & group:
                    options = [v for v in (*fact.values, *sorted(group)) if v in group and v not in self.forbid]
                    if not options:
                        return None
                    have.add(options[0])
            return frozenset(have)
        if fact.type in ("quantity", "date"):
            return self._nearest_ordered(actual, fact)
        options = self.allowed if self.allowed is not None else (
            (True, False) if fact.type == "bool" else fact.values)
        options = [v for v in ordered(options, fact) if v not in self.excluded]
        if actual in options:
            return actual
        return options[0] if options else None

    def _nearest_ordered(self, actual: Any, fact: FactDef) -> Any:
        step: Any = step_of(fact)
        bounds = Need(self.lo, self.lo_open, self.hi, self.hi_open)
        if fact.type == "quantity":
            bounds = bounds.merge(Need(fact.minimum, False, fact.maximum, False))
        if self.allowed is not None:
            points = sorted(p for p in self.allowed if bounds._in_bounds(p) and p not in self.excluded)
            if not points:
                return None
            return points[0] if actual is None else min(points, key=lambda p: (abs(p - actual), p))
        lo = None if bounds.lo is None else bounds.lo + step if bounds.lo_open else bounds.lo
        hi = None if bounds.hi is None else bounds.hi - step if bounds.hi_open else bounds.hi
        if lo is not None and hi is not None and lo > hi:
            return None
        if actual is None:
            value = lo if lo is not None else hi if hi is not None else (
                Decimal(0) if fact.type == "quantity" else None)
        else:
            value = max(actual, lo) if lo is not None else actual
            value = min(value, hi) if hi is not None else value
        if value is None:
            return None
        return next((v for v in (value, value + step, value - step)
                     if bounds._in_bounds(v) and v not in self.excluded), None)


def _tighter(a: Any, a_open: bool, b: Any, b_open: bool, pick) -> tuple[Any, bool]:
    if a is None:
        return b, b_open
    if b is None or a == b:
        return a, a_open or (b_open if a == b else False)
    return (a, a_open) if pick(a, b) == a else (b, b_open)


def ordered(values, fact: FactDef) -> list:
    order = {v: i for i, v in enumerate(fact.values)}
    return sorted(values, key=lambda v: (order.get(v, len(order)), str(v)))


def need_of(op: str, value: Any, fact: FactDef, why: Why) -> Need:
    items = frozenset(value) if isinstance(value, tuple) else frozenset((value,))
    if op in ("at_least", "more_than"):
        return Need(lo=value, lo_open=op == "more_than", why=(why,))
    if op in ("at_most", "less_than"):
        return Need(hi=value, hi_open=op == "less_than", why=(why,))
    if fact.type == "set" and op == "one_of":
        return Need(groups=(items,), why=(why,))
    if fact.type == "set" and op == "none_of":
        return Need(forbid=items, why=(why,))
    if op in ("is", "one_of"):
        return Need(allowed=items, why=(why,))
    return Need(excluded=items, why=(why,))  # is_not, none_of


# ---------------------------------------------------------------------------------------------------
# values

def native(value: R.Value) -> Any:
    """A typed value of the record as the deciding code holds it (Decimal, bool, str, frozenset, date)."""
    if isinstance(value, (R.Quantity, R.Boolean, R.Text, R.Day)):
        return value.value
    if isinstance(value, R.Members):
        return frozenset(value.values)
    return None
