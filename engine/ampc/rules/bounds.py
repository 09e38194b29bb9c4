"""Bounds: a quantity fact's declared range and precision, read from its definition, and each
threshold checked against them.

A fact whose `range` starts at 0 or above cannot be negative, so a negative threshold for it (written
in the condition, or a value of the parameter the condition refers to) makes the condition hold, or
fail, for every product: a sign lost or added while editing, never the law. A fact with a declared
precision (a count of cells: 1) takes only whole multiples of it, so a threshold between two of its
values is refused too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ampc.errors import Problem
from ampc.rules.model import Cmp, FactDef, Rule, comparisons
from ampc.rules.parse import Parsed
from ampc.rules.resolve import BAD, quantity
from ampc.rules.units import plain
from ampc.rules.yamlio import Checker, line_of

if TYPE_CHECKING:
    from ampc.rules.build import Build


def check(b: Build, parsed: Parsed) -> None:
    """Every negative threshold for a fact that cannot be negative, at the line it is written on."""
    value_lines = _param_value_lines(parsed)
    reported: set[tuple[str, dt.date]] = set()
    for rule in b.rules:
        for cmp in _cmps(rule):
            fact = b.facts.get(cmp.fact)
            if fact is None or fact.type != "quantity" or fact.minimum is None or fact.minimum < 0:
                continue
            if not cmp.param:
                if any(n < 0 for n in _numbers(cmp.literal)):
                    b.problems.append(Problem(
                        cmp.where, f"condition on '{fact.name}' in rule '{rule.id}': the threshold "
                        f"{_shown(cmp.literal, fact.unit)} is negative, but {_cannot(b, fact)}",
                        f"write a threshold of {plain(fact.minimum)} {fact.unit} or more, or correct the fact's range"))
                continue
            param = b.params.get(cmp.param)
            for entry in param.values if param else ():
                if (param.id, entry.start) in reported or not any(n < 0 for n in _numbers(entry.value)):
                    continue
                reported.add((param.id, entry.start))
                b.problems.append(Problem(
                    value_lines.get((param.id, entry.start), param.where),
                    f"parameter '{param.id}': the value {_shown(entry.value, param.unit)} from {entry.start} is "
                    f"negative, but rule '{rule.id}' compares it with '{fact.name}' ({cmp.where}), and "
                    f"{_cannot(b, fact)}", f"write a value of {plain(fact.minimum)} {fact.unit} or more, or "
                    "correct the fact's range"))


def check_precision(b: Build, parsed: Parsed) -> None:
    """Every threshold of a fact with a declared precision is a value the fact can take (a whole
    number of cells): a threshold between two of its values would decide no product exactly at it."""
    from ampc.rules.units import UnitError, convert
    value_lines = _param_value_lines(parsed)
    reported: set[tuple[str, str]] = set()
    for rule in b.rules:
        for cmp in _cmps(rule):
            fact = b.facts.get(cmp.fact)
            if fact is None or fact.type != "quantity" or fact.precision is None:
                continue
            param = b.params.get(cmp.param) if cmp.param else None
            entries = [(param.where, v.start, v.value, param.unit) for v in param.values] if param else \
                [(cmp.where, None, cmp.literal, fact.unit)] if not cmp.param else []
            for where, start, value, unit in entries:
                for n in _numbers(value):
                    try:
                        in_unit = convert(n, unit, fact.unit) if unit and unit != fact.unit else n
                    except UnitError:
                        continue
                    key = (cmp.param or rule.id, str(start))
                    if in_unit % fact.precision == 0 or key in reported:
                        continue
                    reported.add(key)
                    what = f"parameter '{param.id}': the value from {start}" if param else \
                        f"condition on '{fact.name}' in rule '{rule.id}': the threshold"
                    b.problems.append(Problem(
                        value_lines.get((param.id, start), where) if param else where,
                        f"{what} {_shown(value, unit or fact.unit)} is not a whole multiple of {fact.name}'s "
                        f"precision ({plain(fact.precision)} {fact.unit})".replace("  ", " "),
                        f"write a value in steps of {plain(fact.precision)} {fact.unit}, or correct the fact's "
                        "precision"))


def _cmps(rule: Rule) -> list[Cmp]:
    return comparisons(rule.when) + (comparisons(rule.review_if) if rule.review_if else [])


def _numbers(value: Any) -> list[Decimal]:
    """The numbers of a threshold: one, or each of a list; none where it is not a number (yet)."""
    items = value if isinstance(value, tuple) else (value,)
    return [v for v in items if isinstance(v, Decimal)]


def _shown(value: Any, unit: str) -> str:
    items = [f"{plain(n)} {unit}".strip() for n in _numbers(value)]
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def _cannot(b: Build, fact: FactDef) -> str:
    where = b.fact_where.get(fact.name, "definitions/facts/")
    return (f"'{fact.name}' cannot be negative (its range starts at {plain(fact.minimum or Decimal(0))} "
            f"{fact.unit}, {where})")


def _param_value_lines(parsed: Parsed) -> dict[tuple[str, dt.date], str]:
    """(parameter, first day of a value) -> the file:line the value is written on."""
    out: dict[tuple[str, dt.date], str] = {}
    for doc in parsed.of("rules"):
        params = doc.data.get("parameters") if isinstance(doc.data, dict) else None
        for pid, spec in params.items() if isinstance(params, dict) else ():
            values = spec.get("values") if isinstance(spec, dict) else None
            for key in values if isinstance(values, dict) else ():
                try:
                    day = dt.date.fromisoformat(str(key))  # YAML read the key as a date, the mapping as text
                except ValueError:
                    continue  # not a date: the schema says so
                out[(str(pid), day)] = f"{doc.path}:{line_of(values, key)}"
    return out


# ---------------------------------------------------------------------------------------------------
# a quantity fact's declared range and precision, read from its definition

def declared_range(c: Checker, spec: dict, what: str, unit: str) -> dict:
    """The declared bounds of a quantity, in its unit: {minimum, maximum}, each given or not."""
    bounds = spec.get("range")
    if not isinstance(bounds, dict) or not unit:
        return {}
    out = {}
    for key, field_name in (("min", "minimum"), ("max", "maximum")):
        if key in bounds:
            value = quantity(c, bounds, key, bounds[key], unit, f"{what}: range {key}", noun="bound")
            if value is not BAD:
                out[field_name] = value
    if out.get("minimum") is not None and out.get("maximum") is not None and out["minimum"] > out["maximum"]:
        c.add(bounds, "min", f"{what}: the range's min is above its max", "write min <= max")
    return out


def declared_precision(c: Checker, spec: dict, what: str, unit: str) -> dict:
    """The declared step between a quantity's values, in its unit: {precision}, or nothing."""
    if "precision" not in spec or not unit:
        return {}
    value = quantity(c, spec, "precision", spec["precision"], unit, f"{what}: precision", noun="precision")
    if value is BAD:
        return {}
    if value <= 0:
        c.add(spec, "precision", f"{what}: the precision must be more than 0", "write the step between its "
              "values, e.g. 1 for a count")
        return {}
    return {"precision": value}
