"""One value of a catalog or ledger as its fact's type: yes/no words, enum values and their
aliases, quantities in canonical units, dates; and the computed facts added from the others. A
value that is not valid input raises UnitError with the fix; missing stays missing (None)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import Any

from ampc.errors import written
from ampc.rules.model import FactDef, RuleSet, is_number
from ampc.rules.units import COMPARED_PLACES, UnitError, convert, parse_decimal, plain, split_quantity
from ampc.rules.words import clean, fold

TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def add_computed(facts: dict[str, Any], vocabulary: dict[str, FactDef]) -> None:
    """Add every computed fact whose inputs are all given (a missing input leaves it missing). One
    that definitions/ let a catalog give instead of its inputs (given_instead_of), and that is
    given, is used as given, once checked against its range and its inputs (check_given)."""
    from ampc.rules.formula import evaluate
    for name, fact in _computed(vocabulary):
        if facts.get(name) is None:
            facts[name] = evaluate(fact, facts, vocabulary)
        elif fact.given_instead_of:
            check_given(fact, facts, vocabulary)


_found: dict[tuple[str, int], tuple[dict, int, Any]] = {}


def found_once(what: str, vocabulary: dict[str, FactDef], make: Callable[[dict[str, FactDef]], Any]) -> Any:
    """What `make` finds in a vocabulary, found once for it and kept with it (so that its id is not
    reused), and found again if facts were added to it since; `what` names the finding."""
    key = (what, id(vocabulary))
    kept = _found.get(key)
    if kept is None or kept[0] is not vocabulary or kept[1] != len(vocabulary):
        kept = (vocabulary, len(vocabulary), make(vocabulary))
        if len(_found) >= 64:
            _found.clear()
        _found[key] = kept
    return kept[2]


def _computed(vocabulary: dict[str, FactDef]) -> tuple[tuple[str, FactDef], ...]:
    """The vocabulary's computed facts, in its order."""
    return found_once("computed", vocabulary, lambda v: tuple((n, f) for n, f in v.items() if f.computed))


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
    low, high = fact.minimum, fact.maximum
    if (low is not None and given < low) or (high is not None and given > high):
        span = (f"from {shown(low)} to {shown(high)}" if low is not None and high is not None
                else f"at least {shown(low)}" if low is not None else f"at most {shown(high)}")
        raise UnitError(f"{fact.name} is given as {_shown(given)} {unit_text(fact.unit)}".rstrip()
                        + f", outside the values it can take ({span})",
                        f"give {fact.name} {span}, or the facts it is computed from instead")
    exponent = max(int(given.as_tuple().exponent), int(PLACES.as_tuple().exponent))  # its last place written
    with localcontext() as ctx:  # the given value to its last place, however large the range lets it be
        ctx.prec = max(ctx.prec, given.adjusted() - min(exponent, 0) + 2)
        as_written = f"{given.quantize(Decimal(1).scaleb(min(exponent, 0))):,f} {unit_text(fact.unit)}".strip()
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
    if isinstance(raw, (Decimal, float)) and not Decimal(raw).is_finite():
        # the JSON literals NaN, Infinity and -Infinity, which Python's json reads (the catalog reader
        # reads them as Decimal), though they are not JSON: the value of no fact, of whatever type
        raise UnitError(f"{written(raw)} is not a finite number", f"give {fact.name} a finite value, or leave it "
                        "empty if it is not known (NaN and Infinity are not JSON values)")
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
        return as_date(raw)
    return fold_text(raw)


READ_KEPT = 16_384  # cells read, kept by their text (a catalog repeats the same words and values)
_read: dict[tuple, Any] = {}


def read_cell(fact: FactDef, raw: Any, header_unit: str, ruleset: RuleSet) -> Any:
    """normalize_value, for a catalog's cell: a cell's text read once (under the same rule set,
    column and unit) is read the same way again."""
    if raw.__class__ is not str:
        return normalize_value(fact, raw, header_unit, ruleset)
    key = (ruleset.sha256, fact.name, raw, header_unit)
    value = _read.get(key, _read)
    if value is _read:
        if len(_read) >= READ_KEPT:
            _read.clear()
        value = _read[key] = normalize_value(fact, raw, header_unit, ruleset)
    return value


def as_date(raw: Any) -> dt.date:
    """A day, written YYYY-MM-DD (or a date cell). A time of day is refused, not cut off: the law's
    dates are days, and the day a timestamp falls on depends on its time zone. A number is refused
    too (20250301 is not read as a date, nor as a spreadsheet's count of days)."""
    if isinstance(raw, dt.datetime):
        raise UnitError(f"'{raw.isoformat(sep=' ')}' is a date and a time, not a date",
                        "write the date alone, YYYY-MM-DD (e.g. 2025-03-14)")
    if isinstance(raw, dt.date):
        return raw
    if is_number(raw) or isinstance(raw, float):
        raise UnitError(f"{_shown(raw)} is a number, not a date", "write the date as text, YYYY-MM-DD "
                        "(e.g. \"2025-03-01\")")
    text = str(raw).strip()
    try:
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise UnitError(f"{_shown(text)} is not a date", "write it as YYYY-MM-DD (e.g. 2025-03-14)"
                    + (", the date alone" if _DATE.match(text) else ""))


def _shown(raw: Any) -> str:
    """A value for a message, as written but never endless: a number of thousands of digits is shown
    by its first and last digits and its length."""
    if isinstance(raw, Decimal) and raw.is_finite() and abs(raw.adjusted()) > 40:
        text = str(raw)  # 1E+400, as Python's decimal writes it, not four hundred zeros
    elif isinstance(raw, dict):
        text = "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in raw.items()) + "}"
    else:
        text = written(raw)
    if len(text) <= 60:
        return text
    quote = "'" if text.startswith("'") else ""
    return f"{text[:25]}...{text[-10:]} ({len(text.strip(quote)):,} characters)"


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
    """The value in the fact's unit, exactly, within the fact's range and to the places compared."""
    if isinstance(raw, bool):
        raise UnitError(f"{written(raw)} is not a quantity", f"write a number with its unit, e.g. '125 {fact.unit}'")
    if isinstance(raw, dict):
        if set(raw) - {"value", "unit"} or "value" not in raw:
            raise UnitError(f"{_shown(raw)} is not {{value, unit}}", "write {value: 125, unit: kW}")
        value = raw["value"] if is_number(raw["value"]) else parse_decimal(str(raw["value"]))
        unit = str(raw.get("unit") or "")
    elif is_number(raw):
        value, unit = Decimal(raw), ""
    elif isinstance(raw, float):
        value, unit = Decimal(repr(raw)), ""
    else:  # invisible characters (a zero-width space after the number) are no part of it
        value, unit = split_quantity(clean(str(raw)))
    if not Decimal(value).is_finite():
        raise UnitError(f"{_shown(raw)} is not a finite number",
                        f"write a number with its unit, e.g. '125 {fact.unit}'")
    if unit and header_unit:
        raise UnitError(f"{_shown(raw)} carries a unit and so does its column header ({header_unit})",
                        "give the unit in one place: either the header or the value")
    unit = unit or header_unit
    if not unit:
        if not fact.bare_number:
            raise UnitError(f"{_shown(raw)} has no unit, and {fact.name} does not take a bare number",
                            f"write its unit, e.g. '{_shown(value)} {fact.unit}' (a fraction such as 0.999 is "
                            "'99.9 %')")
        canonical = Decimal(value)  # a bare number is read in the canonical unit
    else:
        canonical = convert(Decimal(value), unit, fact.unit, ruleset.refusals)
    shown = _shown(raw) if not header_unit else (
        _shown(f"{raw.strip()} {header_unit}") if isinstance(raw, str) else f"{_shown(raw)} {header_unit}")
    if not fact.computed:  # a computed fact given instead is checked with its inputs (check_given)
        _in_range(fact, canonical, shown)
    _to_places(fact, canonical, shown)
    _in_steps(fact, canonical, shown)
    return canonical


def _in_range(fact: FactDef, value: Decimal, shown: str) -> None:
    """The value within the fact's declared range (definitions/: the least and greatest value the
    quantity can take), or a UnitError naming the bound it passes."""
    from ampc.io.report import value_text
    from ampc.records.record import quantity

    low, high = fact.minimum, fact.maximum
    for bound, passed, word in ((low, low is not None and value < low, "below"),
                                (high, high is not None and value > high, "above")):
        if passed:
            which = "minimum" if word == "below" else "maximum"
            span = " to ".join(value_text(quantity(b, fact.unit)) for b in (low, high) if b is not None)
            whose = fact.name + ("'" if fact.name.endswith("s") else "'s")
            raise UnitError(f"{shown} is {word} {whose} {which} of {value_text(quantity(bound, fact.unit))}",
                            f"give {fact.name} " + (f"from {span}" if low is not None and high is not None else
                                                     f"of at {'least' if low is not None else 'most'} {span}")
                            + " (check the number and its unit)")


def _in_steps(fact: FactDef, value: Decimal, shown: str) -> None:
    """A fact with a declared precision takes only whole multiples of it (a count of cells is a whole
    number): a value between two steps is refused, not rounded."""
    if fact.precision is not None and value % fact.precision != 0:
        step = plain(fact.precision)
        unit = f" {fact.unit}" if fact.unit and fact.unit != "count" else ""
        whole = " (a whole number)" if fact.precision == 1 else ""
        raise UnitError(f"{shown} is not a value {fact.name} can take: it is counted in steps of {step}{unit}",
                        f"give {fact.name} in steps of {step}{unit}{whole}")


def _to_places(fact: FactDef, value: Decimal, shown: str) -> None:
    """Every value is compared exactly to COMPARED_PLACES decimal places of its unit; one written more finely
    is refused rather than rounded, so that no boundary is decided on a rounded value."""
    _sign, digits, exponent = value.as_tuple()
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if any(digits) and int(exponent) + trailing < -COMPARED_PLACES:
        unit = f" in {fact.unit}" if fact.unit and fact.unit != "count" else ""
        raise UnitError(f"{shown} has more decimal places than are compared exactly ({COMPARED_PLACES} places{unit})",
                        f"round {fact.name} to at most {COMPARED_PLACES} decimal places{unit}")


def catalog_value(value: Any, unit: str) -> Any:
    """A native value as a YAML catalog writes it, for a product made up by the analyses: a quantity
    as its number and unit, a set as the list of its members, a date in ISO form, true/false and
    words as they are."""
    if isinstance(value, Decimal):
        return f"{plain(value)} {unit}".strip()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
