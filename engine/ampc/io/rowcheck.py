"""One catalog row checked and normalized: its keys are facts a catalog may give, and its values
read as their facts' types in canonical units, with the computed facts added."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ampc.errors import Problem, did_you_mean
from ampc.io.columns import RESERVED as COLUMN_WORDS
from ampc.io.values import add_computed, found_once, read_cell
from ampc.rules.model import FactDef, RuleSet
from ampc.rules.units import UnitError
from ampc.rules.words import clean

if TYPE_CHECKING:
    from ampc.io.catalog import Row

RESERVED = tuple(COLUMN_WORDS)  # the keys of a row that are not facts


def column_problem(row: Row, vocabulary: dict[str, FactDef]) -> Problem | None:
    """The first key of the row that is not a fact a catalog may give, as the row's problem. A key
    with no value (an empty cell of a column the other rows fill, a JSON null) gives nothing."""
    odd = row.raw.keys() - _given(vocabulary)  # a fact a catalog gives: no problem, whatever its value
    if not odd:
        return None
    for key, value in row.raw.items():
        if key not in odd:
            continue
        fact = vocabulary.get(key)
        if value is None or value == "" or isinstance(value, str) and not clean(value):
            continue
        if fact is None:
            known = [n for n, f in vocabulary.items() if not f.derived]
            return Problem(row.where, f"unknown column or key '{key}'"
                           f"{did_you_mean(str(key), known + list(RESERVED))}",
                           "rename it to a fact from `ampc facts`, or remove it", str(key))
        if fact.computed and not fact.given_instead_of:  # one that may be given is checked by add_computed
            return Problem(row.where, f"'{key}' is computed from other facts, not read from a catalog",
                           "remove the column and give the facts it is computed from "
                           "(`ampc facts` shows them)", key)
        if fact.derived:
            return Problem(row.where, f"'{key}' is concluded by the rules, not read "
                           "from a catalog", "remove the column; the decision record shows it", key)
    return None


def _given(vocabulary: dict[str, FactDef]) -> frozenset[str]:
    """The facts a catalog may give: neither concluded by the rules nor computed (unless declared
    given_instead_of their inputs)."""
    return found_once("given", vocabulary, lambda v: frozenset(
        n for n, f in v.items() if not f.derived and not (f.computed and not f.given_instead_of)))


def normalize(row: Row, vocabulary: dict[str, FactDef], ruleset: RuleSet) -> None:
    """Turn raw values into typed facts in canonical units; the first bad value becomes the row's problem."""
    row.pending = False
    facts, units = row.facts, row.units
    for key, raw in row.raw.items():
        if raw == "":  # an empty cell: not given
            facts[key] = None
            continue
        try:
            facts[key] = read_cell(vocabulary[key], raw, units.get(key, ""), ruleset)
        except UnitError as exc:
            row.problem = Problem(f"{row.where}, {key}", exc.message, exc.fix, key)
            row.facts = {}
            return
    try:
        add_computed(row.facts, vocabulary)
    except UnitError as exc:
        row.problem = Problem(row.where, exc.message, exc.fix)
        row.facts = {}
