"""Computed facts: a closed set of formulas over other facts (sum, difference, product, ratio), as data.

A formula is a mapping with one key, whose value lists its operands; an operand is a fact name, a
number with its unit ("0 USD"), or another formula. Units are carried through pint, so a ratio of
two costs is a pure number and converts exactly to percent. No YAML text is ever evaluated as code.
A result is kept to 18 decimal places (half even), the precision the rule engine compares exactly:
a ratio such as 2/3 has no finite decimal, and 18 places decide every threshold the law states.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import pint

from ampc.rules.model import FactDef
from ampc.rules.units import UnitError, registry, split_quantity


def facts_used(formula: Any) -> list[str]:
    if isinstance(formula, str) and not formula[:1].isdigit():
        return [formula]
    if isinstance(formula, dict):
        return [name for operand in next(iter(formula.values()), []) for name in facts_used(operand)]
    return []


def evaluate(fact: FactDef, facts: dict[str, Any], vocabulary: dict[str, FactDef]) -> Decimal | None:
    """The fact's value in its unit, or None when an input is not given."""
    try:
        with localcontext() as ctx:
            ctx.prec = 60
            value = _plan(fact, vocabulary)(facts)
    except ZeroDivisionError:
        inputs = ", ".join(facts_used(fact.computed))
        raise UnitError(f"{fact.name} cannot be computed: it divides by zero", f"check the inputs ({inputs})")
    if value is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        return value.quantize(PLACES, rounding=ROUND_HALF_EVEN)


PLACES = Decimal("1E-18")
_plans: dict[int, tuple[FactDef, tuple, Callable, dict]] = {}  # by fact: the units planned for, the last vocabulary


def _plan(fact: FactDef, vocabulary: dict[str, FactDef]) -> Callable[[dict[str, Any]], Decimal | None]:
    """The formula worked out once for the units of its inputs: a function of the facts (each in its
    canonical unit) to the result in the fact's unit. pint settles every unit and conversion factor
    here, at 60 digits; each evaluation then multiplies, adds and divides the decimals exactly as
    pint would (magnitude times factor), without building a quantity."""
    known = _plans.get(id(fact))
    if known is not None and known[0] is fact and known[3] is vocabulary:  # the same vocabulary as last time
        return known[2]
    units = tuple((n, vocabulary[n].unit) for n in facts_used(fact.computed) if n in vocabulary)
    if known is not None and known[0] is fact and known[1] == units:
        _plans[id(fact)] = (*known[:3], vocabulary)
        return known[2]
    try:
        with localcontext() as ctx:
            ctx.prec = 60
            run, unit = _compile(fact.computed, vocabulary)
            factor = _factor(registry().Quantity(Decimal(1), unit).to(fact.unit))
    except pint.errors.DimensionalityError:
        raise UnitError(f"{fact.name} does not compute to {fact.unit}", "fix the formula in definitions/facts/")

    def planned(facts: dict[str, Any]) -> Decimal | None:
        value = run(facts)
        return None if value is None else value * factor
    _plans[id(fact)] = (fact, units, planned, vocabulary)
    return planned


def quantity_of(node: Any, facts: dict[str, Any], vocabulary: dict[str, FactDef]) -> pint.Quantity | None:
    """One node of a formula (a fact, a literal, or an operation) as a pint quantity, None when an
    input is not given (used by the product generator, which solves a formula for one operand)."""
    run, unit = _compile(node, vocabulary)
    value = run(facts)
    return None if value is None else registry().Quantity(value, unit)


def _factor(quantity: pint.Quantity) -> Decimal:
    magnitude = quantity.magnitude
    return magnitude if isinstance(magnitude, Decimal) else Decimal(str(magnitude))


def _compile(node: Any, vocabulary: dict[str, FactDef]) -> tuple[Callable, pint.Unit]:
    """(a function of the facts to the node's magnitude or None, the node's unit)."""
    reg = registry()
    if isinstance(node, str):
        if node in vocabulary:
            def given(facts: dict[str, Any], name: str = node) -> Decimal | None:
                value = facts.get(name)
                return None if value is None else Decimal(value)
            return given, reg.Quantity(Decimal(1), vocabulary[node].unit).units
        magnitude, unit = split_quantity(node)
        literal = reg.Quantity(magnitude, unit or "dimensionless")
        return (lambda facts, m=literal.magnitude: m), literal.units
    (op, operands), = node.items()
    parts = [_compile(o, vocabulary) for o in operands]
    (first_run, unit), rest = parts[0], parts[1:]
    steps = []  # (operation, operand, factor applied to the operand or to the result)
    for run, operand_unit in rest:
        if op in ("sum", "difference"):
            steps.append((op, run, _factor(reg.Quantity(Decimal(1), operand_unit).to(unit))))
        elif op == "product":
            unit = (reg.Quantity(Decimal(1), unit) * reg.Quantity(Decimal(1), operand_unit)).units
            steps.append((op, run, None))
        elif op == "ratio":
            reduced = (reg.Quantity(Decimal(1), unit) / reg.Quantity(Decimal(1), operand_unit)).to_reduced_units()
            unit = reduced.units
            steps.append((op, run, _factor(reduced)))

    def evaluated(facts: dict[str, Any]) -> Decimal | None:
        first = first_run(facts)
        values = [run(facts) for _, run, _ in steps]
        if first is None or any(v is None for v in values):
            return None
        for (kind, _, factor), value in zip(steps, values):
            if kind == "sum":
                first = first + value * factor
            elif kind == "difference":
                first = first - value * factor
            elif kind == "product":
                first = first * value
            else:
                if value == 0:
                    raise ZeroDivisionError
                first = first / value * factor
        return first
    return evaluated, unit
