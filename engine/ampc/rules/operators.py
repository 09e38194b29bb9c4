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
