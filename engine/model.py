"""The rule set as frozen data: facts, parameters, conditions, rules, precedence, stages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Union


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

    def at(self, as_of: dt.date) -> Any:
        """The value in force on as_of (a later start supersedes; None if none or ended)."""
        current = None
        for entry in self.values:
            if entry.start <= as_of:
                current = entry.value
        return current

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

    def in_force(self, as_of: dt.date) -> bool:
        return self.in_force_from <= as_of and (self.in_force_to is None or as_of <= self.in_force_to)

    def citation(self) -> str:
        return "; ".join(f"IRC {v}" if k == "irc" else str(v) for k, v in self.cite.items())


@dataclass(frozen=True)
class Precedence:
    id: str
    family: str
    order: tuple[str, ...]
    reason: str
    review: str
    where: str


@dataclass(frozen=True)
class CreditLine:
    """How one Form 7207 line's column (d) is figured and what column (c) multiplies it by."""

    line: str
    column_a: str
    column_b: str
    rate: str  # parameter id
    base: dict  # {units_times_fact: F [, capped_by: {fact, ratio}]} | {units_times_column: C} | {column: C}
    phase_out: str  # parameter id, or "" for none
    keyed_on: str  # "sale" or "production": the date the rate and phase-out are read at
    cite: dict
    notes: str
    where: str
    part: str = "II"

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


@dataclass
class RuleSet:
    name: str
    version: str
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
    credits: dict[str, CreditLine] = field(default_factory=dict)
    ledger: dict[str, FactDef] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def stage_kind(self, name: str) -> str:
        return next(s.kind for s in self.stages if s.name == name)

    def families(self) -> list[str]:
        return sorted({r.family for r in self.rules})

    def order_for(self, family: str) -> Precedence | None:
        return next((p for p in self.precedence if p.family == family), None)

    def ident(self) -> dict:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)
