"""Coverage: what the rule set declares it must hold (rules/ruleset.yaml `requires`) against what it holds.

Each file validates on its own, so a rules file emptied or lost, a Part II line that no rule
concludes, or a kind of component left without a class rule on some day would load, and then every
such product would be rejected as "no rule in force". Here each is a problem that names what is
missing, where the rule set declares it, and the fix.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ampc.errors import Problem, did_you_mean
from ampc.rules.model import FactDef, Rule
from ampc.rules.parse import Parsed
from ampc.rules.yamlio import Checker, LocatedList, line_of, load_yaml

if TYPE_CHECKING:
    from ampc.rules.build import Build

_ABOUT = ("section", "defaults")  # what a rules file says about its rules; a file with only these holds none
_KEYS = {"sale": "the date of sale", "production": "the date of production",
         "taxable_year": "the first day of the taxable year of sale"}


def check(b: Build, parsed: Parsed) -> None:
    """Every declared file present and holding something, every declared line concluded, every
    declared kind of component with a class rule in force on each day of the law's period."""
    doc = next(iter(parsed.of("ruleset")), None)
    requires = doc.data.get("requires") if doc is not None and isinstance(doc.data, dict) else None
    if not isinstance(requires, dict):
        return  # no rule set file, or the schema says what is wrong with it
    c = Checker(doc.path, b.problems)
    _files(c, requires.get("files"), parsed)
    line_fact = _fact_with_role(b, "line")
    if line_fact is not None:
        concluded = {str(r.then[line_fact.name]) for r in b.rules if line_fact.name in r.then}
        for at, line in _declared(c, requires, "lines", line_fact, b):
            if line not in concluded:
                b.problems.append(Problem(at, f"Part II line '{line}' is concluded by no rule, though the rule set "
                                          "declares it", f"restore the rule that concludes {{{line_fact.name}: "
                                          f"{line}}}, or remove {line} from 'lines' of 'requires'"))
    kind_fact = _fact_with_role(b, "kind")
    if kind_fact is not None:
        starts = _declared_starts(c, requires.get("components_from"), requires.get("components"))
        for at, kind in _declared(c, requires, "components", kind_fact, b):
            _components(b, at, kind, starts.get(kind))


def _fact_with_role(b: Build, role: str) -> FactDef | None:
    return next((f for f in b.facts.values() if f.role == role), None)


def _item_line(items: Any, index: int) -> int:
    return items.line_of_item(index) if isinstance(items, LocatedList) else line_of(items)


def _files(c: Checker, files: Any, parsed: Parsed) -> None:
    if not isinstance(files, list):
        return
    held = {d.path: d for d in parsed.docs}
    unreadable = {p.where.rsplit(":", 1)[0] if p.where.rsplit(":", 1)[-1].isdigit() else p.where
                  for p in parsed.problems}  # a syntax error, bytes that are not text: reported already
    for index, name in enumerate(files):
        if not isinstance(name, str) or name in unreadable:
            continue
        declared = f"the rule set declares it ({c.path}:{_item_line(files, index)})"
        path = parsed.root / name
        what = "rules" if name.startswith("rules/") else "definitions"
        if not path.is_file():
            c.problems.append(Problem(name, f"the file is missing: {declared}",
                                      f"restore {name}, or remove it from 'files' of 'requires'"))
        elif name in held and not _holds_nothing(held[name].data):
            continue
        elif name in held or load_yaml(path, name)[0] is None:
            c.problems.append(Problem(name, f"the file is empty: {declared}",
                                      f"restore its {what}, or remove it from 'files' of 'requires'"))
        else:
            c.problems.append(Problem(name, f"the file is not one the rule set reads, though {declared}",
                                      "keep rules in rules/**/*.yaml and facts in definitions/facts/*.yaml, or "
                                      "remove it from 'files' of 'requires'"))


def _holds_nothing(data: Any) -> bool:
    if not isinstance(data, dict):
        return not data
    return not any(_filled(value) for key, value in data.items() if key not in _ABOUT)


def _filled(value: Any) -> bool:
    if isinstance(value, (list, dict, str)):
        return bool(value)
    return value is not None


def _declared(c: Checker, requires: dict, key: str, fact: FactDef, b: Build) -> list[tuple[str, str]]:
    """The values declared under `key` (each with the file:line it is declared at) that are values of
    the fact; a declared value the fact lacks, or a value of the fact not declared, is a problem."""
    items = requires.get(key)
    if not isinstance(items, list):
        return []
    defined_at = b.fact_where.get(fact.name, "definitions/facts/")
    out = []
    for index, item in enumerate(items):
        at = f"{c.path}:{_item_line(items, index)}"
        if str(item) not in fact.values:
            b.problems.append(Problem(at, f"'{key}' of 'requires' names '{item}', not a value of the fact "
                                      f"'{fact.name}'{did_you_mean(str(item), fact.values)}",
                                      f"use values of '{fact.name}' ({defined_at})"))
        else:
            out.append((at, str(item)))
    listed = {str(i) for i in items}
    for value in fact.values:
        if value not in listed:
            b.problems.append(Problem(defined_at,
                                      f"'{value}', a value of the fact '{fact.name}', is not in '{key}' of "
                                      f"'requires' ({c.path}:{line_of(requires, key)}), so nothing checks that the "
                                      "rules cover it", f"add {value} to '{key}' of 'requires' in {c.path}"))
    return out


def _declared_starts(c: Checker, starts: Any, components: Any) -> dict[str, dt.date]:
    """components_from: kind -> the first day its class rules must cover; each a declared kind."""
    if not isinstance(starts, dict):
        return {}
    kinds = [str(k) for k in components] if isinstance(components, list) else []
    out = {}
    for kind, day in starts.items():
        if str(kind) not in kinds:
            c.add(starts, kind, f"'components_from' of 'requires' names '{kind}', which 'components' does not list"
                  f"{did_you_mean(str(kind), kinds)}", "name a kind listed in 'components'")
        elif isinstance(day, dt.date):
            out[str(kind)] = day
    return out


def _components(b: Build, at: str, kind: str, declared_start: dt.date | None) -> None:
    """Each day of the law's period on which no class rule of the kind is in force, as runs of days."""
    choose = {s.name for s in b.stages if s.kind == "choose"}
    mine = [r for r in b.rules if r.stage in choose and r.applies_to(kind)]
    keys = sorted({r.keyed_on for r in mine}) or ["sale"]
    start, end = declared_start or _law_start(b.rules, keys), _law_end(b)
    for first, last in _holes([(r.in_force_from, r.in_force_to) for r in mine], start, end):
        days = (f"on {first}" if first == last else f"from {first} on" if last is None
                else f"from {first} to {last}")
        read = " or ".join(_KEYS[k] for k in keys)
        message = f"component '{kind}' has no class rule in force {days} (keyed on {read})"
        if mine:
            ids = ", ".join(f"'{r.id}' ({r.period()})" for r in sorted(mine, key=lambda r: r.in_force_from))
            fix = (f"give one of its class rules, {ids}, an in_force period that covers these days, or add one "
                   "that does")
        else:
            fix = (f"restore its class rules (rules of stage {' or '.join(sorted(choose))} with family: {kind}), "
                   "or remove it from 'components' of 'requires'")
        if declared_start:
            fix += "; or, if the law covers it only later, move its date in 'components_from' of 'requires'"
        b.problems.append(Problem(at, message, fix))


def _law_start(rules: list[Rule], keys: list[str]) -> dt.date:
    """The law's first day on these key dates: the earliest in_force of any rule keyed on them."""
    days = [r.in_force_from for r in rules if r.keyed_on in keys] or [r.in_force_from for r in rules]
    return min(days, default=dt.date.today())


def _law_end(b: Build) -> dt.date:
    """The law's last day checked: today, or the latest date an edition or a rule's period names."""
    days = [dt.date.today(), *(e.enacted_by for e in b.editions.values() if e.enacted_by)]
    days += [d for r in b.rules for d in (r.in_force_from, r.in_force_to) if d]
    return max(days)


def _holes(periods: list[tuple[dt.date, dt.date | None]], start: dt.date, end: dt.date
           ) -> list[tuple[dt.date, dt.date | None]]:
    """The runs of days from start to end (inclusive) in none of the periods (each inclusive, None:
    open-ended), each to the day before the next period begins, or open-ended (None) if none does."""
    holes: list[tuple[dt.date, dt.date | None]] = []
    day: dt.date | None = start  # the first day not yet known to be covered; None: all days are
    for first, last in sorted(periods, key=lambda p: p[0]):
        if day is None or day > end:
            break
        if first > day:
            holes.append((day, first - dt.timedelta(days=1)))
        if last is None:
            day = None
        elif last + dt.timedelta(days=1) > day:
            day = last + dt.timedelta(days=1)
    if day is not None and day <= end:
        holes.append((day, None))
    return holes
