"""The rule set as frozen data: facts, parameters, conditions, rules, precedence, stages.

Over 400 lines because it is one vocabulary of types that refer to one another (a RuleSet holds its
Rules, Params, Stages and FactDefs; a Rule its conditions and citations) and that every other module
reads; split by type, the modules would import each other in a circle."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, Union

DATE_KEYS = frozenset({"sale", "production", "taxable_year"})  # the dates a rule or parameter is keyed to


@dataclass(frozen=True)
class When:
    """The dates a product's law is read at: its sale, its production, and the first day of the
    taxpayer's taxable year in which it is sold. Each rule and parameter is keyed to one of them."""

    sale: dt.date
    production: dt.date
    taxable_year: dt.date

    @classmethod
    def on(cls, day: dt.date) -> When:
        """One date for sale and production; a calendar-year taxpayer (the year begins January 1)."""
        return cls(day, day, dt.date(day.year, 1, 1))

    def date_for(self, key: str) -> dt.date:
        if key not in DATE_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def to_dict(self) -> dict:
        return {"sale": self.sale.isoformat(), "production": self.production.isoformat(),
                "taxable_year_begins": self.taxable_year.isoformat()}


def as_when(value: When | dt.date) -> When:
    return value if isinstance(value, When) else When.on(value)


@dataclass(frozen=True)
class FactDef:
    name: str
    type: str  # bool | enum | set | quantity | text | date
    label: str
    description: str
    unit: str = ""
    values: tuple[str, ...] = ()
    source: str = ""
    derived: bool = False
    bare_number: bool = True  # False: a value must carry its unit (purity: 0.99 is not 0.99 %)
    computed: Any = None  # a formula over other facts ({ratio: [{difference: [a, b]}, a]})
    # the inputs of `computed` a catalog may give it instead of (none: it is never read, only computed)
    given_instead_of: tuple[str, ...] = ()
    role: str = ""  # what the code reads it for (schema.FACT_ROLES / LEDGER_ROLES): kind, sale_date, ...
    minimum: Decimal | None = None  # the range the quantity can take (inclusive), in its unit
    maximum: Decimal | None = None
    precision: Decimal | None = None  # the step between its values, in its unit (None: the finest compared)
    aliases: tuple[str, ...] = ()  # column headers people write for it ("AC capacity")
    value_labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # value -> its words
    value_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)
    words: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # folded word -> value


@dataclass(frozen=True)
class ParamValue:
    start: dt.date
    value: Any  # Decimal, tuple[Decimal, ...], or None (the parameter ends)


@dataclass(frozen=True)
class Param:
    id: str
    label: str
    description: str
    unit: str
    values: tuple[ParamValue, ...]
    references: tuple[dict, ...]
    where: str
    keyed_on: str = "sale"
    enacted: dt.date | None = None

    def entry(self, when: When | dt.date) -> ParamValue | None:
        """The value in force on the parameter's key date (a later start supersedes)."""
        day = as_when(when).date_for(self.keyed_on)
        current = None
        for entry in self.values:
            if entry.start <= day:
                current = entry
        return current

    def at(self, when: When | dt.date) -> Any:
        entry = self.entry(when)
        return None if entry is None else entry.value

    @property
    def is_list(self) -> bool:
        return any(isinstance(v.value, tuple) for v in self.values)


@dataclass(frozen=True)
class Cmp:
    """One condition: fact, operator, and a literal value or a parameter reference."""

    fact: str
    op: str
    literal: Any = None
    param: str = ""
    clause: str = ""
    where: str = ""


@dataclass(frozen=True)
class All:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    item: Cond


Cond = Union[Cmp, All, AnyOf, Not]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True)
class CiteAmendment:
    """Citations that replace some of a rule's `cite` for decisions in taxable years beginning after
    a date: a later act renumbered what the rule cites (45X(c)(6)(R) became (S)), the rule unchanged."""

    after: dt.date  # taxable years beginning after this date cite as amended
    by: str  # the act that made the change, e.g. Pub. L. 119-21, sec. 70514(e)
    enacted: dt.date  # when that act was enacted: an edition of the law before it cites `cite` only
    cite: dict  # the citations that replace the rule's own, key by key

    def applies(self, when: When | dt.date) -> bool:
        return as_when(when).taxable_year > self.after


@dataclass(frozen=True)
class Rule:
    id: str
    stage: str
    family: str
    line: str
    label: str
    text: str
    cite: dict
    in_force_from: dt.date
    in_force_to: dt.date | None
    when: Cond
    then: dict
    where: str
    file: str
    notes: str = ""
    review: str = ""
    keyed_on: str = "sale"
    enacted: dt.date | None = None
    families: tuple[str, ...] = ()
    review_when: tuple[str, ...] = ("holds",)  # when the open reading matters: the rule holds, or fails too
    review_if: Cond | None = None  # and only on facts that meet this condition
    ended: dt.date | None = None  # when the law that ends it (in_force_to) was enacted
    cite_as_amended: tuple[CiteAmendment, ...] = ()  # later citations of the same text, by taxable year

    def in_force(self, when: When | dt.date) -> bool:
        day = as_when(when).date_for(self.keyed_on)
        return self.in_force_from <= day and (self.in_force_to is None or day <= self.in_force_to)

    def applies_to(self, family: str | None) -> bool:
        """The rule applies to this kind of component (a rule for `any` kind applies to all)."""
        return self.family == "any" or (family is not None and family in (self.families or (self.family,)))

    def period(self) -> str:
        key = {"sale": "sold", "production": "produced", "taxable_year": "in taxable years beginning"}[self.keyed_on]
        end = f" to {self.in_force_to}" if self.in_force_to else ""
        return f"{key} from {self.in_force_from}{end}"

    def cite_for(self, when: When | dt.date | None) -> dict:
        """The citations in force for a decision at `when`: `cite`, each entry replaced by the
        amendments for taxable years beginning after their date, in the order written (None: `cite`)."""
        cite = dict(self.cite)
        for amendment in self.cite_as_amended:
            if when is not None and amendment.applies(when):
                cite.update(amendment.cite)
        return cite

    def citation(self, when: When | dt.date | None = None) -> str:
        return "; ".join(f"IRC {v}" if k == "irc" else str(v) for k, v in self.cite_for(when).items())


@dataclass(frozen=True)
class Interpretation:
    """A reading the law leaves open (definitions/interpretations.yaml): what the sources say, the
    reading the rules apply and those they do not. Rules, precedences and credit lines name it in
    `review:`, and a decision that turns on it is flagged with its id."""

    id: str
    title: str
    question: str
    law: str
    reading: str
    alternatives: tuple[str, ...]
    sources: tuple[dict, ...]
    where: str


@dataclass(frozen=True)
class Precedence:
    id: str
    family: str
    order: tuple[str, ...]
    reason: str
    review: str
    where: str


@dataclass(frozen=True)
class PhaseOut:
    """A phase-out schedule (a percentage parameter) and the period in which it applies."""

    param: str
    start: dt.date | None = None
    end: dt.date | None = None
    keyed_on: str = "sale"

    def applies(self, when: When | dt.date) -> bool:
        day = as_when(when).date_for(self.keyed_on)
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class CreditLine:
    """How one Form 7207 line's column (d) is figured and what column (c) multiplies it by."""

    line: str
    column_a: str
    column_b: str
    rate: str  # parameter id
    base: dict  # {units_times_fact: F [, capped_by: {fact, ratio}]} | {units_times_column: C} | {column: C}
    phase_out: tuple[PhaseOut, ...]  # the schedules, each with its period; none: no phase-out
    keyed_on: str  # "sale" or "production": the date the rate and phase-out are read at
    cite: dict
    notes: str
    where: str
    part: str = "II"
    review: str = ""  # the open reading the line's amount applies (an interpretation id)
    review_against: str = ""  # the schedule the reading sets aside: flagged where it would give less
    efile: dict = field(default_factory=dict)  # column -> IRS e-file (MeF) element: {d: ..., e: ...}

    def citation(self) -> str:
        return "; ".join(f"IRC {v}" if k == "irc" else str(v) for k, v in self.cite.items())


@dataclass(frozen=True)
class Stage:
    name: str
    kind: str  # derive | choose | require
    label: str


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    instructions: str
    file: str


class Edition(NamedTuple):
    """An edition of the law the rules can be read as (rules/ruleset.yaml `editions`)."""

    label: str
    enacted_by: dt.date | None  # the rules and parameters enacted by this date; None: all of them
    form: str  # the revision of Form 7207 and its instructions it goes with
    aliases: tuple[str, ...] = ()


@dataclass
class RuleSet:
    name: str
    root: str
    sha256: str
    stages: tuple[Stage, ...]
    facts: dict[str, FactDef]
    params: dict[str, Param]
    rules: tuple[Rule, ...]
    precedence: tuple[Precedence, ...]
    refusals: dict = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    glossary: dict = field(default_factory=dict)
    interpretations: dict[str, Interpretation] = field(default_factory=dict)
    credits: dict[str, CreditLine] = field(default_factory=dict)
    ledger: dict[str, FactDef] = field(default_factory=dict)
    known_on: dt.date | None = None  # the edition: the law as enacted by this date (None: all of it)
    editions: dict[str, Edition] = field(default_factory=dict)  # name -> edition, earliest first
    roles: dict[str, str] = field(default_factory=dict)  # role -> the fact that holds it
    ledger_roles: dict[str, str] = field(default_factory=dict)  # role -> the ledger column that holds it

    def role(self, name: str) -> str:
        """The fact that holds a role (kind, line, sale_date, ...), as definitions/ declare it."""
        return self.roles[name]

    def column(self, name: str) -> str:
        """The ledger column that holds a role (facility, product, units, ...)."""
        return self.ledger_roles[name]

    def line_order(self) -> tuple[str, ...]:
        """The Form 7207 Part II lines in the form's order: the values of the fact with role `line`."""
        return self.facts[self.roles["line"]].values

    def rule(self, rule_id: str) -> Rule:
        index = self.__dict__.get("_index")
        if index is None or len(index) != len(self.rules):
            index = self.__dict__["_index"] = {r.id: r for r in self.rules}
        return index[rule_id]

    def stage_kind(self, name: str) -> str:
        return self._stage_kinds[name]

    @functools.cached_property
    def _stage_kinds(self) -> dict[str, str]:
        return {s.name: s.kind for s in self.stages}

    def families(self) -> list[str]:
        return sorted({r.family for r in self.rules})

    def order_for(self, family: str) -> Precedence | None:
        return next((p for p in self.precedence if p.family == family), None)

    def rank(self, family: str, rule_id: str) -> int:
        """A class rule's place in the kind's declared precedence (after every rule it names if not named)."""
        order = self.order_for(family)
        if order and rule_id in order.order:
            return order.order.index(rule_id)
        return len(order.order) if order else 0

    def winner(self, family: str, held: Iterable[str]) -> str | None:
        """The rule that decides among class rules that hold: the only one, else the first by the
        declared precedence; None where none holds, or no precedence orders them all."""
        held = list(held)
        if len(held) == 1:
            return held[0]
        order = self.order_for(family)
        if not held or not order or any(rid not in order.order for rid in held):
            return None
        return min(held, key=order.order.index)

    def edition_named(self, name: str) -> str | None:
        """The edition a name or alias names (`current`: the latest), or None."""
        if name in self.editions:
            return name
        return next((n for n, e in self.editions.items() if name in e.aliases), None)

    def edition_holding(self, enacted: dt.date | None) -> str:
        """The earliest edition that holds an item enacted on that date (None: the first edition)."""
        for name, e in self.editions.items():
            if enacted is None or e.enacted_by is None or enacted <= e.enacted_by:
                return name
        return next(reversed(self.editions), "")

    def era(self, when: When) -> tuple[int, ...]:
        """Where the dates fall among the days the law changes on: for each date a rule or parameter
        is keyed to, how many of the days on which a rule comes into force, a rule's last day has
        passed, or a parameter takes a value, are on or before it. On dates of one era the same rules
        are in force and every parameter has the same value, so what is read from those alone (the
        rules in force, the edition deciding) is read once an era."""
        cuts = self.__dict__.get("_cuts")
        if cuts is None or cuts[0] is not self.rules:
            days: dict[str, set[dt.date]] = {key: set() for key in sorted(DATE_KEYS)}
            for r in self.rules:
                days[r.keyed_on].add(r.in_force_from)
                if r.in_force_to is not None:
                    days[r.keyed_on].add(r.in_force_to + DAY)
            for p in self.params.values():
                days[p.keyed_on].update(v.start for v in p.values)
            cuts = self.__dict__["_cuts"] = (self.rules, tuple((key, sorted(d)) for key, d in days.items()))
        return tuple(bisect.bisect_right(cut, getattr(when, key)) for key, cut in cuts[1])

    def edition_deciding(self, when: When) -> str:
        """The edition of the law that decides a product on these dates: the earliest that holds every
        rule and parameter value in force on them."""
        reads = self.__dict__.get("_reads")
        if reads is None or len(reads) != len(self.rules):
            reads = self.__dict__["_reads"] = {r.id: tuple(params_of(r.when)) for r in self.rules}
        in_force = [r for r in self.rules if r.in_force(when)]
        used = {pid for r in in_force for pid in reads[r.id]}
        dates = [r.enacted for r in in_force if r.enacted]
        dates += [p.enacted for pid in used for p in [self.params[pid]] if p.enacted and p.at(when) is not None]
        return self.edition_holding(max(dates) if dates else None)

    def ident(self) -> dict:
        ident = {"name": self.name, "sha256": self.sha256}
        if self.known_on:
            ident["law_as_enacted_by"] = self.known_on.isoformat()
        return ident


FINEST = Decimal(1).scaleb(-18)  # the finest difference the engine compares (units.COMPARED_PLACES)
DAY = dt.timedelta(days=1)


def step_of(fact: FactDef) -> Any:
    """The step between the values a fact can take: one day for a date; for a quantity its declared
    precision (a count of cells: 1), else the finest difference the engine compares."""
    if fact.type == "date":
        return DAY
    return fact.precision if fact.precision is not None else FINEST


def comparisons(cond: Cond) -> list[Cmp]:
    """The comparisons of a condition, in order, however nested."""
    if isinstance(cond, Cmp):
        return [cond]
    if isinstance(cond, Not):
        return comparisons(cond.item)
    return [c for item in cond.items for c in comparisons(item)]


def params_of(cond: Cond) -> list[str]:
    """The parameters a condition compares with."""
    return [c.param for c in comparisons(cond) if c.param]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)
