"""Computed facts: a closed set of formulas over other facts (sum, difference, product, ratio), as data.

A formula is a mapping with one key, whose value lists its operands; an operand is a fact name, a
number with its unit ("0 USD"), or another formula. Units are carried through pint, so a ratio of
two costs is a pure number and converts exactly to percent. No YAML text is ever evaluated as code.
A result is kept to 18 decimal places (half even), the precision the rule engine compares exactly:
a ratio such as 2/3 has no finite decimal, and 18 places decide every threshold the law states.
"""

from __future__ import annotations

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
            quantity = _eval(fact.computed, facts, vocabulary)
            if quantity is not None:
                quantity = quantity.to(fact.unit)
    except ZeroDivisionError:
        inputs = ", ".join(facts_used(fact.computed))
        raise UnitError(f"{fact.name} cannot be computed: it divides by zero", f"check the inputs ({inputs})")
    except pint.errors.DimensionalityError:
        raise UnitError(f"{fact.name} does not compute to {fact.unit}", "fix the formula in definitions/facts/")
    if quantity is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(quantity.magnitude).quantize(PLACES, rounding=ROUND_HALF_EVEN)


PLACES = Decimal("1E-18")


def _eval(node: Any, facts: dict[str, Any], vocabulary: dict[str, FactDef]) -> pint.Quantity | None:
    reg = registry()
    if isinstance(node, str):
        if node in vocabulary:
            value = facts.get(node)
            return None if value is None else reg.Quantity(Decimal(value), vocabulary[node].unit)
        magnitude, unit = split_quantity(node)
        return reg.Quantity(magnitude, unit or "dimensionless")
    (op, operands), = node.items()
    values = [_eval(o, facts, vocabulary) for o in operands]
    if any(v is None for v in values):
        return None
    first, *rest = values
    for value in rest:
        if op == "sum":
            first = first + value.to(first.units)
        elif op == "difference":
            first = first - value.to(first.units)
        elif op == "product":
            first = first * value
        elif op == "ratio":
            if value.magnitude == 0:
                raise ZeroDivisionError
            first = (first / value).to_reduced_units()
    return first
