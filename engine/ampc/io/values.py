"""One value of a catalog or ledger as its fact's type: yes/no words, enum values and their
aliases, quantities in canonical units, dates; and the computed facts added from the others. A
value that is not valid input raises UnitError with the fix; missing stays missing (None)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from decimal import Decimal
from typing import Any

from ampc.errors import written
from ampc.rules.model import FactDef, RuleSet, is_number
from ampc.rules.units import UnitError, convert, parse_decimal, split_quantity
from ampc.rules.words import clean, fold

TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}


def add_computed(facts: dict[str, Any], vocabulary: dict[str, FactDef]) -> None:
    """Add every computed fact whose inputs are all given (a missing input leaves it missing). One
    that definitions/ let a catalog give instead of its inputs (given_instead_of), and that is
    given, is used as given, once checked against its range and its inputs (check_given)."""
    from ampc.rules.formula import evaluate
    for name, fact in vocabulary.items():
        if fact.computed and facts.get(name) is None:
            facts[name] = evaluate(fact, facts, vocabulary)
        elif fact.computed and fact.given_instead_of:
            check_given(fact, facts, vocabulary)


def check_given(fact: FactDef, facts: dict[str, Any], vocabulary: dict[str, FactDef]) -> None:
    """A computed fact given by the catalog: within the fact's range; and where every fact it is
    computed from is given too, the same number they give to the decimal places it is written with
    in the fact's unit (62.5 % agrees with a computed 62.4999... % and with 62.45 %, not with
    62.4 %): the two are one fact written twice, and the row cannot say which is meant. With only
    some of its inputs given, the given value stands alone. Raises UnitError naming both values."""
    from decimal import ROUND_HALF_EVEN

    from ampc.io.report import unit_text, value_text
    from ampc.records.record import quantity
    from ampc.rules.formula import PLACES, evaluate, facts_used

    def shown(value: Decimal, unit: str = fact.unit) -> str:
        return value_text(quantity(value, unit))

    given = Decimal(facts[fact.name])
    exponent = max(int(given.as_tuple().exponent), int(PLACES.as_tuple().exponent))  # its last place written
    as_written = f"{given.quantize(Decimal(1).scaleb(min(exponent, 0))):,f} {unit_text(fact.unit)}".strip()
    low, high = fact.minimum, fact.maximum
    if (low is not None and given < low) or (high is not None and given > high):
        span = (f"from {shown(low)} to {shown(high)}" if low is not None and high is not None
                else f"at least {shown(low)}" if low is not None else f"at most {shown(high)}")
        raise UnitError(f"{fact.name} is given as {as_written}, outside the values it can take ({span})",
                        f"give {fact.name} {span}, or the facts it is computed from instead")
    computed = evaluate(fact, facts, vocabulary)
    if computed is None:
        return
    if abs(computed - given) <= Decimal(5).scaleb(exponent - 1):  # rounds to the given value
        return
    close = computed.quantize(Decimal(1).scaleb(min(exponent - 2, 0)), rounding=ROUND_HALF_EVEN)
    inputs = ", ".join(f"{n} {shown(facts[n], vocabulary[n].unit)}" for n in dict.fromkeys(facts_used(fact.computed)))
    raise UnitError(f"{fact.name} is given as {as_written}, but the facts it is computed from give "
                    f"{'about ' if close != computed else ''}{shown(close)} ({inputs})",
                    f"give either {fact.name} or the facts it is computed from, or correct them so that "
                    f"they agree")


def normalize_value(fact: FactDef, raw: Any, header_unit: str, ruleset: RuleSet) -> Any:
    """One raw value as the fact's type: missing stays None, never false or zero."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if fact.type == "bool":
        return _yes_no(raw)
    if fact.type == "enum":
        return _member(fact, raw)
    if fact.type == "set":
        items = raw if isinstance(raw, list) else re.split(r"[;|]", str(raw))
        return frozenset(_member(fact, item) for item in items if str(item).strip())
    if fact.type == "quantity":
        return _quantity(fact, raw, header_unit, ruleset)
    if fact.type == "date":
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise UnitError(f"{written(raw)} is not a date", "write it as YYYY-MM-DD")
    return fold_text(raw)


def fold_text(raw: Any) -> str:
    """Free text compared without regard to case or spacing: 'Acme', ' acme ' and 'ACME' are one value."""
    return clean(str(raw)).lower()


def _yes_no(raw: Any) -> bool:
    """yes/no, true/false, y/n or 1/0, in any case; anything else is an error, never false."""
    if isinstance(raw, bool):
        return raw
    if is_number(raw) and raw in (0, 1):
        return raw == 1
    word = clean(str(raw)).casefold()
    if word in TRUE or word in FALSE:
        return word in TRUE
    raise UnitError(f"{written(clean(str(raw)))} is not yes or no",
                    "write yes or no (or true / false, y / n, 1 / 0)")


def _member(fact: FactDef, raw: Any) -> str:
    """The value a cell names: the value itself or one of its aliases, without regard to case,
    spacing, punctuation or invisible characters. A cell that names no value is an error listing the
    closest values, never a value that fails a rule."""
    value = fact.words.get(fold(raw))
    if value is not None:
        return value
    text = clean(str(raw))
    spelled = {w: v for v in fact.values for w in (v, *fact.value_aliases.get(v, ()))}
    close = difflib.get_close_matches(text.casefold(), [w.casefold() for w in spelled], n=6, cutoff=0.6)
    by_fold = {w.casefold(): w for w in spelled}
    nearest: dict[str, str] = {}  # value -> the closest word for it
    for w in close:
        nearest.setdefault(spelled[by_fold[w]], by_fold[w])
    hint = ""
    if nearest:
        hint = " (did you mean " + " or ".join(
            f"'{w}'" + (f" ({v})" if w != v else "") for v, w in list(nearest.items())[:3]) + "?)"
    listed = ", ".join(fact.values) if len(fact.values) <= 12 else ", ".join(fact.values[:12]) + ", ..."
    fix = f"write one of the values of {fact.name}: {listed}"
    if any(fact.value_aliases.values()):
        fix += " (or a word for one of them: `ampc facts` lists them)"
    raise UnitError(f"{written(text)} is not a value of {fact.name}{hint}", fix)



def _quantity(fact: FactDef, raw: Any, header_unit: str, ruleset: RuleSet) -> Decimal:
    if isinstance(raw, bool):
        raise UnitError(f"{written(raw)} is not a quantity", f"write a number with its unit, e.g. '125 {fact.unit}'")
    if isinstance(raw, dict):
        if set(raw) - {"value", "unit"} or "value" not in raw:
            raise UnitError(f"{written(raw)} is not {{value, unit}}", "write {value: 125, unit: kW}")
        value = raw["value"] if is_number(raw["value"]) else parse_decimal(str(raw["value"]))
        unit = str(raw.get("unit") or "")
    elif is_number(raw):
        value, unit = Decimal(raw), ""
    elif isinstance(raw, float):
        value, unit = Decimal(repr(raw)), ""
    else:
        value, unit = split_quantity(str(raw))
    if unit and header_unit:
        raise UnitError(f"'{raw}' carries a unit and so does its column header ({header_unit})",
                        "give the unit in one place: either the header or the value")
    unit = unit or header_unit
    if not unit:
        if not fact.bare_number:
            raise UnitError(f"{written(raw)} has no unit, and {fact.name} does not take a bare number",
                            f"write its unit, e.g. '{raw} {fact.unit}' (a fraction such as 0.999 is '99.9 %')")
        return Decimal(value)  # a bare number is read in the canonical unit
    return convert(Decimal(value), unit, fact.unit, ruleset.refusals)
