"""Units: parse "125 kW" or (125, "kW") and convert to the canonical unit as an exact Decimal (pint)."""

from __future__ import annotations

import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Decimal, InvalidOperation, localcontext
from functools import lru_cache

import pint


class UnitError(ValueError):
    """A value whose unit is unknown or incompatible; carries the fix for the person."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Refusal:
    """A unit that pint converts but the law does not accept in place of another (VA for W)."""

    unit: str
    instead_of: str
    reason: str
    made_of: tuple[str, ...] = ()  # the units whose product it is (volt, ampere): V*A is refused as VA is


# the decimal places every quantity is compared to exactly, in its unit: the computed facts are rounded
# to them (rules/formula.py PLACES) and the rule engine compares in steps of 10**-18 (decide/compile.py)
COMPARED_PLACES = 18
# the significant digits a conversion factor is worked out to: one that has no finite decimal is
# rounded there, far past what shows at COMPARED_PLACES for any value a range allows
FACTOR_DIGITS = 60


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    reg = pint.UnitRegistry(non_int_type=Decimal, autoconvert_offset_to_baseunit=False)
    reg.define("dollar = [currency] = USD")
    return reg


_NUMBER = re.compile(r"^\s*([-+]?(?:\d[\d,_]*(?:\.[\d,_]*)?|\.\d[\d,_]*)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_POWER = re.compile(r"(?<=[A-Za-z])([23])\b")
# A comma is read only as a thousands separator, between groups of exactly three digits after a
# first group of one to three (1,250; 12,345,678.5). Any other comma may be a decimal comma (0,125
# and 1,5 are 0.125 and 1.5 where a comma marks decimals), so it is refused, never guessed.
_EXPONENT = r"(?:[eE][-+]?\d+)?"
_GROUPED = re.compile(r"[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?" + _EXPONENT)
_DIGITS = re.compile(r"[-+]?(?=[.,]*\d)[\d,]*(?:\.[\d,]*)?" + _EXPONENT)  # a number but for its commas


def _unit_text(unit: str) -> str:
    text = unit.strip().replace("%", "percent")
    return _POWER.sub(r"**\1", text)


def parse_decimal(text: str, unit: str = "") -> Decimal:
    """A number as written, exactly: digits with an optional point and exponent, a comma only
    between groups of three digits, an underscore anywhere between digits. `unit`, the unit written
    after it, only words the fix."""
    cleaned = text.strip().replace("_", "")
    if "," in cleaned:
        if not _GROUPED.fullmatch(cleaned) and _DIGITS.fullmatch(cleaned):
            raise UnitError(f"'{_joined(text, unit)}' is ambiguous: its comma does not separate groups of "
                            "three digits (as in 1,250 or 12,345,678.5), so it may be a decimal comma",
                            _comma_fix(cleaned, unit))
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise UnitError(f"'{text}' is not a number", "write a plain decimal number, e.g. 125 or 0.125")
    if not value.is_finite():
        raise UnitError(f"'{text}' is not a finite number", "write a plain decimal number")
    return value


def _joined(number: str, unit: str) -> str:
    return f"{number.strip()} {unit}".strip()


def _comma_fix(number: str, unit: str) -> str:
    """'write 0.125 MW with a decimal point, or 125 kW': the comma read as a decimal point, and that
    number in the next smaller multiple where there is one; else how commas and points are written."""
    if not re.fullmatch(r"[-+]?\d+,\d+", number):
        return ("write the number with a point for its decimals and commas, if any, only between groups "
                "of three digits: 1250.5 or 1,250.5")
    pointed = number.replace(",", ".")
    fix = f"write {_joined(pointed, unit)} with a decimal point"
    smaller = _smaller_multiple(unit)
    if smaller:
        fix += f", or {_joined(plain(Decimal(pointed) * 1000), smaller)}"
    return fix + " (a comma is read only between groups of three digits, as in 1,250)"


def _smaller_multiple(unit: str) -> str:
    """The unit a thousand times smaller, by its SI prefix: MW -> kW, kW -> W, GWh -> MWh; else ''."""
    steps = {"G": "M", "M": "k", "k": ""}
    if not unit or unit[0] not in steps:
        return ""
    smaller = steps[unit[0]] + unit[1:]
    try:
        return smaller if smaller and convert(Decimal(1), unit, smaller) == 1000 else ""
    except UnitError:
        return ""


def split_quantity(text: str) -> tuple[Decimal, str]:
    """'125 kW' -> (Decimal('125'), 'kW'); '125' -> (Decimal('125'), '')."""
    match = _NUMBER.match(str(text))
    if not match:
        raise UnitError(f"'{text}' is not a number with a unit",
                        "write it as a number and a unit, e.g. '125 kW'")
    return parse_decimal(match.group(1), match.group(2)), match.group(2)


def check_unit(unit: str) -> pint.Unit:
    """The pint unit for a unit string, or a UnitError naming it."""
    try:
        return registry().Unit(_unit_text(unit))
    # pint's expression parser fails in several ways on text that is not a unit: its own errors, an
    # AssertionError ('W/', '**'), tokenize.TokenError ('(W'), decimal.DivisionByZero ('W/0')
    except (pint.errors.PintError, ValueError, AttributeError, TypeError, AssertionError, ArithmeticError,
            tokenize.TokenError, SyntaxError, KeyError, IndexError) as exc:
        detail = f" ({exc})" if isinstance(exc, pint.errors.UndefinedUnitError) else ""
        raise UnitError(f"unknown unit '{unit}'{detail}",
                        "use a unit such as W, kW, MW, V, kWh, Wh/L, kg, m**2, cm**2 or percent")


def _base_powers(unit: pint.Unit) -> tuple[tuple[str, object], ...]:
    """The unit's named units without their prefixes, with their powers: kV*A -> (volt, 1), (ampere, 1)."""
    reg = registry()
    powers = []
    for name, power in unit._units.items():
        _prefix, base, _suffix = reg.parse_unit_name(name)[0]
        powers.append((base, power))
    return tuple(powers)


def _holds(powers: tuple[tuple[str, object], ...], refusal: Refusal) -> bool:
    """Whether a unit holds the refused one: by its name (kVA), or as the product of the units it is
    made of, each to the same power (V*A, kV*A, V*A*h; not V/A, not V alone)."""
    named = dict(powers)
    if refusal.unit in named:
        return True
    if not refusal.made_of or not all(part in named for part in refusal.made_of):
        return False
    return len({named[part] for part in refusal.made_of}) == 1


def convert(magnitude: Decimal, unit: str, canonical: str,
            refusals: Mapping[str, Refusal] | None = None) -> Decimal:
    """Convert magnitude in unit to canonical, exactly (however many digits it has); refuse
    incompatible units, and a declared refusal wherever the conversion would otherwise read the
    refused unit as the canonical one (volt-amperes as watts, for every fact in W, kW, kWh, ...)."""
    powers, factor, problem = _conversion(unit, canonical)
    if problem is None:
        for refusal in (refusals or {}).values():
            if _holds(powers, refusal) and not _holds(_conversion(canonical, canonical)[0], refusal):
                raise UnitError(f"'{unit}' is {refusal.reason}", _refusal_fix(refusal, unit, canonical))
    if problem is not None:
        raise UnitError(*problem)
    if factor is not None:
        return _times(magnitude, factor)
    result = registry().Quantity(magnitude, check_unit(unit)).to(check_unit(canonical)).magnitude
    return result if isinstance(result, Decimal) else Decimal(str(result))


def _times(magnitude: Decimal, factor: Decimal) -> Decimal:
    """What pint computes for a unit without an offset, value times factor, keeping every digit of
    the value however many it has: exactly where the factor is exact (a prefix; 0.45359237 kg a
    pound); where the factor has no finite decimal (1/3600 kWh a kJ) the value has none either, and
    is rounded to the places every comparison is exact to (3600 kJ is 1 kWh, 1 kJ 0.000277... kWh)."""
    with localcontext() as ctx:
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN  # 1e400000000 MW is refused by its range, not an overflow
        digits, factor_digits = len(magnitude.as_tuple().digits), len(factor.as_tuple().digits)
        ctx.prec = digits + factor_digits + 2
        product = magnitude * factor
        if factor_digits < FACTOR_DIGITS or product.adjusted() > 60:  # exact, or beyond every range
            return product
        ctx.prec = max(product.adjusted(), 0) + COMPARED_PLACES + 2
        return product.quantize(Decimal(1).scaleb(-COMPARED_PLACES))


def _refusal_fix(refusal: Refusal, unit: str, canonical: str) -> str:
    if canonical == refusal.instead_of:
        return f"give the value in {canonical} (or a multiple such as k{canonical})"
    if compatible(canonical, refusal.instead_of):
        return f"give the value in {canonical} (or another multiple of {refusal.instead_of}), not in {unit}"
    return f"give the value in {canonical}, not in {unit}"


@lru_cache(maxsize=4096)
def _conversion(unit: str, canonical: str) -> tuple[tuple[tuple[str, object], ...], Decimal | None,
                                                    tuple[str, str] | None]:
    """How one unit converts to another, worked out once: its named units and powers (for refusals), the
    factor (None for a unit with an offset, converted by pint each time), or the problem (message, fix)."""
    given = check_unit(unit)
    target = check_unit(canonical)
    bases = _base_powers(given)
    reg = registry()
    try:
        with localcontext() as ctx:  # the same factor whatever the caller's precision
            ctx.prec = FACTOR_DIGITS
            one = reg.Quantity(Decimal(1), given).to(target).magnitude
            zero = reg.Quantity(Decimal(0), given).to(target).magnitude
    except pint.errors.DimensionalityError:
        return bases, None, (f"'{unit}' measures {dimension_name(given)}, not {dimension_name(target)} ({canonical})",
                             f"give the value in {canonical} or a compatible unit")
    factor = one if isinstance(one, Decimal) else Decimal(str(one))
    return bases, factor if zero == 0 else None, None


def bare_number_allowed(unit: str) -> bool:
    """Whether a number written without a unit can stand for a value in `unit`: only where it means
    the same in every unit it could be given in, that is no unit or a pure count (count, 1). Anywhere
    else it is ambiguous: 125 where 125 kW is meant is not 125 W, 0.99 where 99 % is meant is not 0.99 %."""
    try:
        return convert(Decimal(1), unit, "") == 1
    except UnitError:
        return False


# the multiple the law often states a value in, offered beside the unit itself in a fix
_MULTIPLES = {"W": "kW", "kW": "W", "Wh": "kWh", "kWh": "Wh", "V": "kV"}


def with_unit(magnitude: Decimal, unit: str) -> str:
    """A bare number written with its unit, for a fix: "'125 kW' or '125 W', whichever is meant"; for
    a percent, both readings of the number: "'0.99 percent', or '99 percent' if 0.99 is a fraction"."""
    number = plain(magnitude)
    if unit in _MULTIPLES:
        return f"'{number} {_MULTIPLES[unit]}' or '{number} {unit}', whichever is meant"
    try:
        per_one = convert(Decimal(1), unit, "")
    except UnitError:
        return f"'{number} {unit}'"
    fraction = plain(magnitude / per_one)
    return f"'{number} {unit}'" + (f", or '{fraction} {unit}' if {number} is a fraction" if fraction != number else "")


_DIMENSION_NAMES = {
    "[mass] * [length] ** 2 / [time] ** 3": "power",
    "[mass] * [length] ** 2 / [time] ** 2": "energy",
    "[mass] * [length] ** 2 / [time] ** 3 / [current]": "electric potential (voltage)",
    "[mass] * [length] ** 2 / [time] ** 3 / [current] ** 2": "electric resistance",
    "[current]": "electric current",
    "[mass]": "mass",
    "[length] ** 2": "area",
    "[length]": "length",
    "[length] ** 3": "volume",
    "[mass] / [length] / [time] ** 2": "energy per volume",
    "dimensionless": "a pure number (fraction or percent)",
    "[time]": "time",
    "[currency]": "money",
    "1 / [time] / [length] ** 2": "a rate per area and time",
}


def dimension_name(unit: pint.Unit) -> str:
    key = str(unit.dimensionality)
    return _DIMENSION_NAMES.get(key, key)


def compatible(unit: str, canonical: str) -> bool:
    try:
        return check_unit(unit).dimensionality == check_unit(canonical).dimensionality
    except UnitError:
        return False


def plain(value: Decimal) -> str:
    """Decimal without exponent or trailing zeros: 1.5E+3 -> '1500', 0.0240 -> '0.024'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def grouped(value: Decimal) -> str:
    """Decimal with thousands separators, exact: 1234567.0001 -> '1,234,567.0001' (however many digits)."""
    text = plain(value)
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    head = len(whole) % 3 or 3
    whole = ",".join([whole[:head], *(whole[i:i + 3] for i in range(head, len(whole), 3))])
    return sign + whole + ("." + frac if frac else "")
