"""Operators named after the legal wording ("not less than" = at_least, "greater than" = more_than,
"not greater than" = at_most): the exact test each makes on Decimals, dates and values. Their words
for a person are the renderers' (ampc.io.report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Operator:
    name: str
    test: Callable[[Any, Any], bool]


def _one_of(actual: Any, expected: Any) -> bool:
    if isinstance(actual, frozenset):
        return bool(actual & frozenset(expected))
    return actual in expected


OPERATORS: dict[str, Operator] = {op.name: op for op in (
    Operator("is", lambda a, e: a == e),
    Operator("one_of", _one_of),
    Operator("at_least", lambda a, e: a >= e),
    Operator("more_than", lambda a, e: a > e),
    Operator("at_most", lambda a, e: a <= e),
    Operator("less_than", lambda a, e: a < e),
)}


# A threshold the law does not state for a date can still be immaterial: the comparison may come
# out the same for every value the threshold could take, the range of the fact it is compared with
# (a ratio of 100 % is at least any percentage from 0 % to 100 %). For each operator: the bound
# that the actual value must pass, with the same operator, to hold for every threshold in the range,
# and the operator and bound at which it fails for every threshold.
_FOR_EVERY = {"at_least": ("maximum", "less_than", "minimum"), "more_than": ("maximum", "at_most", "minimum"),
              "at_most": ("minimum", "more_than", "maximum"), "less_than": ("minimum", "at_least", "maximum")}


def settled_for_every(op: str, minimum: Any, maximum: Any) -> tuple[tuple[str, Any] | None, tuple[str, Any] | None]:
    """For a comparison against a threshold known only to lie in [minimum, maximum] (a bound None:
    not declared): (operator, bound) at which it holds for every threshold, and (operator, bound) at
    which it fails for every threshold; None where no value settles it that way."""
    if op not in _FOR_EVERY:
        return None, None
    hold_at, fail_op, fail_at = _FOR_EVERY[op]
    bounds = {"minimum": minimum, "maximum": maximum}
    hold = (op, bounds[hold_at]) if bounds[hold_at] is not None else None
    fail = (fail_op, bounds[fail_at]) if bounds[fail_at] is not None else None
    return hold, fail


def for_every(op: str, actual: Any, minimum: Any, maximum: Any) -> bool | None:
    """The comparison's result if it is the same for every threshold in [minimum, maximum], else None."""
    hold, fail = settled_for_every(op, minimum, maximum)
    if hold and OPERATORS[hold[0]].test(actual, hold[1]):
        return True
    if fail and OPERATORS[fail[0]].test(actual, fail[1]):
        return False
    return None
