"""Units: parse "125 kW" or (125, "kW") and convert to the canonical unit as an exact Decimal (pint)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
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


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    reg = pint.UnitRegistry(non_int_type=Decimal, autoconvert_offset_to_baseunit=False)
    reg.define("dollar = [currency] = USD")
    return reg


_NUMBER = re.compile(r"^\s*([-+]?(?:\d[\d,_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_POWER = re.compile(r"(?<=[A-Za-z])([23])\b")


def _unit_text(unit: str) -> str:
    text = unit.strip().replace("%", "percent")
    return _POWER.sub(r"**\1", text)


def parse_decimal(text: str) -> Decimal:
    cleaned = text.strip().replace(",", "").replace("_", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise UnitError(f"'{text}' is not a number", "write a plain decimal number, e.g. 125 or 0.125")
    if not value.is_finite():
        raise UnitError(f"'{text}' is not a finite number", "write a plain decimal number")
    return value


def split_quantity(text: str) -> tuple[Decimal, str]:
    """'125 kW' -> (Decimal('125'), 'kW'); '125' -> (Decimal('125'), '')."""
    match = _NUMBER.match(str(text))
    if not match:
        raise UnitError(f"'{text}' is not a number with a unit",
                        "write it as a number and a unit, e.g. '125 kW'")
    return parse_decimal(match.group(1)), match.group(2)


def check_unit(unit: str) -> pint.Unit:
    """The pint unit for a unit string, or a UnitError naming it."""
    try:
        return registry().Unit(_unit_text(unit))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, ValueError,
            AttributeError, TypeError) as exc:
        raise UnitError(f"unknown unit '{unit}' ({exc})",
                        "use a unit such as W, kW, MW, V, kWh, Wh/L, kg, m**2, cm**2 or percent")


def _base_names(unit: pint.Unit) -> list[str]:
    reg = registry()
    names = []
    for name, _power in unit._units.items():
        _prefix, base, _suffix = reg.parse_unit_name(name)[0]
        names.append(base)
    return names


def convert(magnitude: Decimal, unit: str, canonical: str,
            refusals: Mapping[str, Refusal] | None = None) -> Decimal:
    """Convert magnitude in unit to canonical, exactly; refuse incompatible and declared units."""
    bases, factor, problem = _conversion(unit, canonical)
    for base in bases:
        refusal = (refusals or {}).get(base)
        if refusal and refusal.instead_of == canonical:
            raise UnitError(f"'{unit}' is {refusal.reason}", f"give the value in {canonical} "
                            f"(or a multiple such as k{canonical})")
    if problem is not None:
        raise UnitError(*problem)
    if factor is not None:
        return magnitude * factor  # what pint computes for a unit without an offset: value times factor
    result = registry().Quantity(magnitude, check_unit(unit)).to(check_unit(canonical)).magnitude
    return result if isinstance(result, Decimal) else Decimal(str(result))


@lru_cache(maxsize=4096)
def _conversion(unit: str, canonical: str) -> tuple[tuple[str, ...], Decimal | None, tuple[str, str] | None]:
    """How one unit converts to another, worked out once: its base unit names (for refusals), the
    factor (None for a unit with an offset, converted by pint each time), or the problem (message, fix)."""
    given = check_unit(unit)
    target = check_unit(canonical)
    bases = tuple(_base_names(given))
    reg = registry()
    try:
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
    """Decimal with thousands separators, exact: 1234567.0001 -> '1,234,567.0001'."""
    text = plain(value)
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("-")
    whole, _, frac = text.partition(".")
    whole = f"{int(whole):,}"
    return sign + whole + ("." + frac if frac else "")
