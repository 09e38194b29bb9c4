"""A plain-Python reference classifier of the six inverter lines of Form 7207, Part II (3a to 3f).

A benchmark yardstick and a cross-check, not a second implementation of the law: the thresholds of
rules/part_ii/line_03_inverters.yaml (its parameters as in force from 2023-01-01) are hard-coded
here, as is its precedence among overlapping classes, so a change to that file does not reach this
one. It reads a catalog row as bench/mixed_bench.py writes it (quantities as '<number> W' or
'<number> V', sets joined by ';', booleans yes/no) and decides in three values: a clause on a fact
left empty is unknown, and a class that may hold makes the line undetermined unless a class earlier
in the precedence order holds.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

IN_FORCE_FROM = dt.date(2023, 1, 1)  # every inverter rule, keyed on the date of sale
KW = Decimal(1000)
CENTRAL_MIN_W = 1000 * KW  # 3a: greater than
UTILITY_MIN_V = Decimal(600)  # 3b: at least
UTILITY_MIN_W, UTILITY_MAX_W = 125 * KW, 1000 * KW  # 3b: greater than, at most
COMMERCIAL_V = {Decimal(v) for v in (208, 480, 600, 800)}  # 3c
COMMERCIAL_MIN_W, COMMERCIAL_MAX_W = 20 * KW, 125 * KW  # 3c: at least, at most
RESIDENTIAL_V = {Decimal(120), Decimal(240)}  # 3d
RESIDENTIAL_MAX_W = 20 * KW  # 3d: at most
MICRO_SINGLE_V, MICRO_THREE_V = {Decimal(120), Decimal(240)}, {Decimal(208), Decimal(480)}  # 3e
MICRO_MAX_W = Decimal(650)  # 3e: at most
WIND_MAX_W = 150 * KW  # 3f: at most
DC_SOURCES = {"solar_module", "certified_distributed_wind_energy_system"}
# the rules' precedence (inverter.specific_first): the more specific definition wins
ORDER = ("3e", "3f", "3d", "3a", "3b", "3c")
FACTS = ("component", "is_end_product", "converts_dc_to_ac", "dc_source", "suitable_for", "phase",
         "rated_output_voltage", "ac_capacity", "connects_to_one_module",
         "used_with_certified_distributed_wind", "sale_date")
UNITS = {"rated_output_voltage": "V", "ac_capacity": "W"}
SETS = ("dc_source", "suitable_for")
BOOLS = ("is_end_product", "converts_dc_to_ac", "connects_to_one_module", "used_with_certified_distributed_wind")


def facts_of(row: dict[str, str]) -> dict:
    """The inverter facts of one CSV row (an empty cell is None); ValueError for a value it cannot
    read (a wrong unit, text in a number, a boolean that is not yes or no)."""
    facts: dict = {}
    for name in FACTS:
        raw = (row.get(name) or "").strip()
        if not raw:
            facts[name] = None
        elif name in UNITS:
            number, _, unit = raw.partition(" ")
            if unit.strip() != UNITS[name]:
                raise ValueError(f"{name}: {raw!r} is not in {UNITS[name]}")
            try:
                facts[name] = Decimal(number)
            except InvalidOperation:
                raise ValueError(f"{name}: {raw!r} is not a number") from None
        elif name in SETS:
            facts[name] = frozenset(v.strip() for v in raw.split(";") if v.strip())
        elif name in BOOLS:
            if raw.lower() not in ("yes", "no", "true", "false"):
                raise ValueError(f"{name}: {raw!r} is not yes or no")
            facts[name] = raw.lower() in ("yes", "true")
        elif name == "sale_date":
            facts[name] = dt.date.fromisoformat(raw)
        else:
            facts[name] = raw.lower()
    return facts


def _all(*values: bool | None) -> bool | None:
    if False in values:
        return False
    return None if None in values else True


def _any(*values: bool | None) -> bool | None:
    if True in values:
        return True
    return None if None in values else False


def _test(value, check) -> bool | None:
    return None if value is None else check(value)


def classify(facts: dict) -> tuple[str | None, str]:
    """The line (3a to 3f; None for no line, 'undetermined' when facts left empty decide it) and
    a short explanation."""
    f = facts.get
    cap, volt, phase = f("ac_capacity"), f("rated_output_voltage"), f("phase")
    suits = f("suitable_for")
    sale = f("sale_date")
    if sale is not None and sale < IN_FORCE_FROM:
        return None, f"sold {sale}, before the inverter lines are in force ({IN_FORCE_FROM})"
    inverter = _all(f("component") == "inverter" if f("component") else None,
                    f("is_end_product"), f("converts_dc_to_ac"),
                    _test(f("dc_source"), lambda s: bool(s & DC_SOURCES)))
    if inverter is not True:
        return (None if inverter is False else "undetermined"), "not shown to be an inverter (3)"
    three = _test(phase, lambda p: p == "three")
    single = _test(phase, lambda p: p == "single")
    commercial_use = _test(suits, lambda s: bool(s & {"commercial", "utility_scale"}))
    classes = {
        "3a": _all(_test(suits, lambda s: "large_utility_scale" in s), _test(cap, lambda c: c > CENTRAL_MIN_W)),
        "3b": _all(commercial_use, three, _test(volt, lambda v: v >= UTILITY_MIN_V),
                   _test(cap, lambda c: UTILITY_MIN_W < c <= UTILITY_MAX_W)),
        "3c": _all(commercial_use, three, _test(volt, lambda v: v in COMMERCIAL_V),
                   _test(cap, lambda c: COMMERCIAL_MIN_W <= c <= COMMERCIAL_MAX_W)),
        "3d": _all(_test(suits, lambda s: "residence" in s), single, _test(volt, lambda v: v in RESIDENTIAL_V),
                   _test(cap, lambda c: c <= RESIDENTIAL_MAX_W)),
        "3e": _all(f("connects_to_one_module"),
                   _any(_all(single, _test(volt, lambda v: v in MICRO_SINGLE_V)),
                        _all(three, _test(volt, lambda v: v in MICRO_THREE_V))),
                   _test(cap, lambda c: c <= MICRO_MAX_W)),
        "3f": _all(f("used_with_certified_distributed_wind"), _test(cap, lambda c: c <= WIND_MAX_W)),
    }
    for line in ORDER:
        if classes[line] is True:
            others = [x for x in ORDER if x != line and classes[x] is True]
            return line, f"meets {line}" + (f" (also {', '.join(others)}; {line} comes first)" if others else "")
        if classes[line] is None:
            return "undetermined", f"{line} may hold: a fact it needs is empty"
    return None, "an inverter that meets none of 3a to 3f"
