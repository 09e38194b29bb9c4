"""The changelog of two rule sets, no catalog needed: every rule, parameter, fact, credit line and
precedence added, removed or changed, field by field, with the old and the new value as typed data
(a parameter's values dated and with their units; a rule's period, citations and conditions).
ampc.analysis.changelog_render writes it as text, Markdown or JSON; nothing here formats a value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Literal, Union

import msgspec

from ampc.records import record as R
from ampc.rules.model import All, AnyOf, Cmp, Cond, CreditLine, FactDef, Not, Param, Precedence, Rule, RuleSet

Kind = Literal["rule", "parameter", "fact", "credit_line", "precedence"]
ChangeWord = Literal["added", "removed", "changed"]
KINDS: tuple[Kind, ...] = ("rule", "parameter", "credit_line", "fact", "precedence")


class _Frozen(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


# ---------------------------------------------------------------------------------------------------
# the values a field can hold: a tagged union on "type", beside the record's own values

class Words(_Frozen, tag="words", tag_field="type"):
    """Prose or a name: a label, the instruction text, a line, a unit, a parameter id."""

    text: str


class Names(_Frozen, tag="names", tag_field="type"):
    """A list of names in order: a precedence order, a fact's allowed values, a parameter's references."""

    names: tuple[str, ...]


class Period(_Frozen, tag="period", tag_field="type"):
    """When a rule is in force, on the date it is keyed to (end None: open-ended)."""

    keyed_on: Literal["sale", "production", "taxable_year"]
    start: dt.date
    end: dt.date | None = None


class Amended(_Frozen):
    """Citations that replace some of the rule's for taxable years beginning after a date."""

    after: dt.date
    by: str
    enacted: dt.date
    cite: dict[str, str]


class Citation(_Frozen, tag="citation", tag_field="type"):
    """What a rule or credit line cites: instructions, IRC paragraph, ..., key by key."""

    cite: dict[str, str]


class AmendedCitations(_Frozen, tag="amended_citations", tag_field="type"):
    """The citations a later act renumbered, each set for taxable years beginning after its date."""

    amended: tuple[Amended, ...]


class Test(_Frozen, omit_defaults=True):
    """One comparison of a condition: where it sits in the tree ("all[2]/any[1]", as a decision
    record's clause path), the fact, the operator, and the value written in the rule (in the fact's
    unit) or the parameter it reads."""

    path: str
    fact: str
    op: str
    value: R.Value | None = None
    param: str | None = None
    clause: str = ""
    of_set: bool = False  # the fact is a set: one_of reads "includes one of"


class Condition(_Frozen, tag="condition", tag_field="type"):
    tests: tuple[Test, ...]


class Dated(_Frozen):
    """One value of a parameter and the days it is in force (end None: until a later value; value
    None: the parameter has no value from `start`, the law ends it)."""

    start: dt.date
    end: dt.date | None
    value: R.Value | None


class Values(_Frozen, tag="values", tag_field="type"):
    keyed_on: Literal["sale", "production", "taxable_year"]
    values: tuple[Dated, ...]


class Schedule(_Frozen):
    """A phase-out schedule of a credit line (a percentage parameter) and the period it applies in."""

    param: str
    keyed_on: Literal["sale", "production", "taxable_year"]
    start: dt.date | None = None
    end: dt.date | None = None


class Schedules(_Frozen, tag="schedules", tag_field="type"):
    schedules: tuple[Schedule, ...]


class Concludes(_Frozen, tag="concludes", tag_field="type"):
    """What a rule concludes when it holds: fact -> value."""

    values: dict[str, R.Value]


FieldValue = Union[Words, Names, Period, Citation, AmendedCitations, Condition, Values, Schedules, Concludes,  # noqa: UP007
                   R.Quantity, R.Boolean, R.Day]


class FieldChange(_Frozen):
    """One field of an entry: its old and new value (old None: added; new None: removed)."""

    field: str
    old: FieldValue | None = None
    new: FieldValue | None = None


class Entry(_Frozen):
    """One rule, parameter, fact, credit line or precedence that differs between the two rule sets."""

    kind: Kind
    id: str
    change: ChangeWord
    label: str
    line: str  # the Form 7207 line of a rule or credit line ("" for the other kinds)
    where: str  # file:line in the new rule set (in the old one for an entry removed); "" for a fact
    cite: tuple[str, ...]  # the citations it carries, as the newer side states them
    fields: tuple[FieldChange, ...]  # added or removed: every field it has; changed: those that differ

    def field_named(self, name: str) -> FieldChange | None:
        return next((f for f in self.fields if f.field == name), None)


class Side(_Frozen):
    """One of the two rule sets compared: what it was given as, its hash, the edition it was read as."""

    label: str
    name: str
    sha256: str
    law_as_enacted_by: dt.date | None = None


class Changelog(_Frozen):
    old: Side
    new: Side
    summary: dict[str, dict[str, int]]  # kind -> added | removed | changed -> how many (only those that occur)
    entries: tuple[Entry, ...]

    def entry(self, kind: str, item_id: str) -> Entry | None:
        return next((e for e in self.entries if e.kind == kind and e.id == item_id), None)


# ---------------------------------------------------------------------------------------------------
# each kind's fields, as typed values (a field that is empty is left out)

def _words(text: Any) -> Words | None:
    text = " ".join(str(text or "").split())
    return Words(text) if text else None


def _names(items: Iterable[str]) -> Names | None:
    items = tuple(items)
    return Names(items) if items else None


def _day(day: dt.date | None) -> R.Day | None:
    return R.Day(day) if day else None


def _tests(ruleset: RuleSet, cond: Cond, path: str = "") -> list[Test]:
    if isinstance(cond, Cmp):
        fact = ruleset.facts.get(cond.fact)
        literal = None if cond.param else R.typed(cond.literal, fact.unit if fact else "")
        return [Test(path or "all", cond.fact, cond.op, literal, cond.param or None, cond.clause,
                     fact is not None and fact.type == "set")]
    if isinstance(cond, Not):
        return _tests(ruleset, cond.item, f"{path}/not")
    kind = "all" if isinstance(cond, All) else "any"
    assert isinstance(cond, (All, AnyOf))
    return [t for i, item in enumerate(cond.items, 1)
            for t in _tests(ruleset, item, f"{path}/{kind}[{i}]" if path else f"{kind}[{i}]")]


def _citation(cite: dict) -> Citation | None:
    return Citation({str(k): str(v) for k, v in cite.items()}) if cite else None


def _amended(amended: Iterable) -> AmendedCitations | None:
    items = tuple(Amended(a.after, a.by, a.enacted, {str(k): str(v) for k, v in a.cite.items()}) for a in amended)
    return AmendedCitations(items) if items else None


def rule_fields(ruleset: RuleSet, rule: Rule) -> dict[str, FieldValue | None]:
    return {
        "line": _words(rule.line), "label": _words(rule.label), "stage": _words(rule.stage),
        "families": _names(rule.families or (rule.family,)),
        "in_force": Period(rule.keyed_on, rule.in_force_from, rule.in_force_to),  # type: ignore[arg-type]
        "citation": _citation(rule.cite), "citation_as_amended": _amended(rule.cite_as_amended),
        "text": _words(rule.text), "conditions": Condition(tuple(_tests(ruleset, rule.when))),
        "concludes": Concludes({k: R.typed(v, ruleset.facts[k].unit if k in ruleset.facts else "")
                                for k, v in sorted(rule.then.items())}),
        "enacted": _day(rule.enacted), "review": _words(rule.review), "notes": _words(rule.notes),
    }


def param_values(param: Param) -> Values:
    out = []
    for i, entry in enumerate(param.values):
        end = param.values[i + 1].start - dt.timedelta(days=1) if i + 1 < len(param.values) else None
        out.append(Dated(entry.start, end, None if entry.value is None else R.typed(entry.value, param.unit)))
    return Values(param.keyed_on, tuple(out))  # type: ignore[arg-type]


def param_fields(_: RuleSet, param: Param) -> dict[str, FieldValue | None]:
    refs = [" ".join(str(r.get(k, "")) for k in ("title", "href") if r.get(k)) for r in param.references]
    return {"label": _words(param.label), "unit": _words(param.unit), "values": param_values(param),
            "description": _words(param.description), "references": _names(refs), "enacted": _day(param.enacted)}


def fact_fields(_: RuleSet, fact: FactDef) -> dict[str, FieldValue | None]:
    def bound(value):
        return None if value is None else R.quantity(value, fact.unit)
    return {"label": _words(fact.label), "type": _words(fact.type), "unit": _words(fact.unit),
            "values": _names(fact.values), "minimum": bound(fact.minimum), "maximum": bound(fact.maximum),
            "derived": R.Boolean(True) if fact.derived else None, "aliases": _names(fact.aliases),
            "description": _words(fact.description)}


def credit_fields(_: RuleSet, credit: CreditLine) -> dict[str, FieldValue | None]:
    schedules = tuple(Schedule(p.param, p.keyed_on, p.start, p.end) for p in credit.phase_out)  # type: ignore[arg-type]
    return {"part": _words(credit.part), "rate": _words(credit.rate), "keyed_on": _words(credit.keyed_on),
            "phase_out": Schedules(schedules) if schedules else None, "citation": _citation(credit.cite),
            "column_a": _words(credit.column_a), "column_b": _words(credit.column_b),
            "review": _words(credit.review), "notes": _words(credit.notes)}


def precedence_fields(_: RuleSet, p: Precedence) -> dict[str, FieldValue | None]:
    return {"family": _words(p.family), "order": _names(p.order), "reason": _words(p.reason),
            "review": _words(p.review)}


# ---------------------------------------------------------------------------------------------------
# the changelog

class _Kind:
    """How to list, name, describe and cite one kind of item of a rule set."""

    def __init__(self, kind: Kind, items: Callable[[RuleSet], dict[str, Any]],
                 fields: Callable[[RuleSet, Any], dict[str, FieldValue | None]],
                 label: Callable[[Any], str], where: Callable[[Any], str], cite: Callable[[Any], tuple[str, ...]],
                 line: Callable[[Any], str] = lambda _: ""):
        self.kind, self.items, self.fields, self.label, self.where, self.cite = kind, items, fields, label, where, cite
        self.line = line


def _refs(param: Param) -> tuple[str, ...]:
    return tuple(str(r.get("title", "")) for r in param.references if r.get("title"))


_KINDS = (
    _Kind("rule", lambda rs: {r.id: r for r in rs.rules}, rule_fields, lambda r: r.label, lambda r: r.where,
          lambda r: (r.citation(),) if r.cite else (), lambda r: r.line),
    _Kind("parameter", lambda rs: dict(rs.params), param_fields, lambda p: p.label, lambda p: p.where, _refs),
    _Kind("credit_line", lambda rs: dict(rs.credits), credit_fields, lambda c: f"Line {c.line} credit",
          lambda c: c.where, lambda c: (c.citation(),) if c.cite else (), lambda c: c.line),
    _Kind("fact", lambda rs: dict(rs.facts), fact_fields, lambda f: f.label, lambda f: "",
          lambda f: (f.source,) if f.source else ()),
    _Kind("precedence", lambda rs: {p.id: p for p in rs.precedence}, precedence_fields,
          lambda p: f"Precedence among {p.family} classes", lambda p: p.where, lambda p: ()),
)


def _side(ruleset: RuleSet, label: str) -> Side:
    return Side(label, ruleset.name, ruleset.sha256, ruleset.known_on)


def changelog(old: RuleSet, new: RuleSet, labels: tuple[str, str] = ("old", "new")) -> Changelog:
    """Every item of each kind that one rule set has and the other has not, or that differs in some
    field: rules and the rest in the new rule set's order, those removed after them."""
    entries: list[Entry] = []
    for k in _KINDS:
        before, after = k.items(old), k.items(new)
        for item_id in [*after, *(i for i in before if i not in after)]:
            a, b = before.get(item_id), after.get(item_id)
            fa = k.fields(old, a) if a is not None else {}
            fb = k.fields(new, b) if b is not None else {}
            fields = tuple(FieldChange(name, fa.get(name), fb.get(name)) for name in dict.fromkeys([*fb, *fa])
                           if fa.get(name) != fb.get(name))
            if not fields and a is not None and b is not None:
                continue
            change: ChangeWord = "added" if a is None else "removed" if b is None else "changed"
            shown = b if b is not None else a
            entries.append(Entry(k.kind, item_id, change, k.label(shown), k.line(shown), k.where(shown),
                                 k.cite(shown), fields))
    summary: dict[str, dict[str, int]] = {}
    for e in entries:
        summary.setdefault(e.kind, {}).setdefault(e.change, 0)
        summary[e.kind][e.change] += 1
    return Changelog(_side(old, labels[0]), _side(new, labels[1]), summary, tuple(entries))
