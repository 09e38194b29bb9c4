"""Operators named after the legal wording: the exact test on Decimals and the words for each outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Operator:
    name: str
    legal: str  # the statute's wording
    holds: str  # "ac_capacity 1,200,000 W [is more than] 1,000,000 W"
    fails: str  # "ac_capacity 1,000,000 W [is not more than] 1,000,000 W"
    test: Callable[[Any, Any], bool]
    negation: str  # the operator that holds exactly when this one fails (on a known value)


def _one_of(actual: Any, expected: Any) -> bool:
    if isinstance(actual, frozenset):
        return bool(actual & frozenset(expected))
    return actual in expected


OPERATORS: dict[str, Operator] = {
    "is": Operator("is", "is", "is", "is not", lambda a, e: a == e, "is_not"),
    "one_of": Operator("one_of", "one of", "is one of", "is not one of", _one_of, "none_of"),
    "at_least": Operator("at_least", "not less than", "is at least", "is less than",
                         lambda a, e: a >= e, "less_than"),
    "more_than": Operator("more_than", "greater than", "is more than", "is not more than",
                          lambda a, e: a > e, "at_most"),
    "at_most": Operator("at_most", "not greater than", "is at most", "is more than",
                        lambda a, e: a <= e, "more_than"),
    "less_than": Operator("less_than", "less than", "is less than", "is not less than",
                          lambda a, e: a < e, "at_least"),
}

SET_WORDS = {"holds": "includes one of", "fails": "includes none of"}


def words(op: str, passed: bool, is_set: bool = False) -> str:
    operator = OPERATORS[op]
    if is_set and op == "one_of":
        return SET_WORDS["holds" if passed else "fails"]
    return operator.holds if passed else operator.fails
