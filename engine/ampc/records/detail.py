"""Compact and full records. A compact record keeps every candidate rule's verdict and every clause
that failed or is unknown (and, of a rule that holds, the alternatives that made it hold), with its
path in the rule's condition, actual value, threshold (with its unit) and verdict, under the rule's
id; and the input cells that hold a value. What the rule set holds it leaves to the rule set, which
the record names by its hash: the rule's stage, line and words (label, text, citation, source,
period), and each clause's words, fact, operator, parameter and the date that parameter's value is
in force from (all read from the clause at its path); it writes each threshold and actual value bare
(`R.Bare`), its type being its fact's. `expand` puts them back from that rule set."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import msgspec

from ampc.decide.explain import Explainer
from ampc.errors import AmpcError
from ampc.records import record as R
from ampc.rules.model import All, Cmp, Cond, FactDef, Not, Rule, RuleSet, When


def compact(record: R.Record) -> R.Record:
    if not isinstance(record, R.Decision) or record.detail == "compact":
        return record
    considered = tuple(
        msgspec.structs.replace(
            c, stage="", line="", label=None, cite=None, text=None, source=None, in_force=None,
            clauses=tuple(bared(msgspec.structs.replace(x, clause="", rule="", fact="", op="", param=None,
                                                        param_from=None, derived=False)) for x in c.clauses
                          if kept(x.verdict == "true", x.decisive, x.path)))
        for c in record.considered)
    # the facts are the rule set's reading of the inputs, which `expand` reads again; a sale's
    # dates that the credit gave are not in the inputs: such a record keeps its facts
    facts = record.facts if record.dates.sale_from == "ledger" else {}
    return msgspec.structs.replace(record, considered=considered, inputs=given_only(record.inputs), facts=facts,
                                   flags=wordless(record.flags), detail="compact")


def kept(held: bool, decisive: bool, path: str) -> bool:
    """Whether a compact record keeps a clause: one that failed or is unknown, or an alternative
    (under an any) that made its rule hold."""
    return not held or (decisive and "any[" in path)


def given_only(inputs: R.Inputs) -> R.Inputs:
    """The inputs without the cells left empty: an empty cell gives no value, and the facts list it as not given."""
    return msgspec.structs.replace(inputs, values={k: v for k, v in inputs.values.items() if v not in ("", None)})


def wordless(flags: tuple[R.Flag, ...]) -> tuple[R.Flag, ...]:
    """The flags without their words, which are their rule's or precedence's."""
    return tuple(msgspec.structs.replace(f, note="") for f in flags)


def bared(clause: R.Clause) -> R.Clause:
    """The clause with its threshold and actual value bare and their one unit (both are in the fact's
    canonical unit); kept typed if they were ever in two units."""
    (threshold, in_units), (actual, units) = as_bare(clause.threshold), as_bare(clause.actual)
    unit = one_unit(in_units, units)
    if unit is None:
        return clause
    return msgspec.structs.replace(clause, threshold=threshold, actual=actual, unit=unit)


def one_unit(*units: frozenset[str]) -> str | None:
    """The one unit a clause's bare threshold and actual are in ("" for none), or None where they
    are in two: such a clause keeps them typed."""
    every = frozenset().union(*units)
    return None if len(every) > 1 else next(iter(every), "")


def as_bare(value: R.Value | None) -> tuple[R.Value | R.Bare | None, frozenset[str]]:
    """A typed value as a compact record writes it, and the units it is in (none, or one)."""
    members = value.values if isinstance(value, R.OneOf) else ()
    return bare(value), frozenset(v.unit for v in (value, *members) if isinstance(v, R.Quantity))


def bare(value: R.Value | R.Bare | None) -> R.Value | R.Bare | None:
    """A typed value as a compact record writes it (`R.Bare`); a threshold the law does not state stays typed."""
    if isinstance(value, R.Quantity):
        return str(value.value)
    if isinstance(value, (R.Boolean, R.Text)):
        return value.value
    if isinstance(value, R.Day):
        return value.value.isoformat()
    if isinstance(value, R.Members):
        return value.values
    if isinstance(value, R.OneOf):
        return tuple(bare(v) for v in value.values)  # type: ignore[misc]
    if isinstance(value, R.NotGiven):
        return None
    return value


def typed(value: R.Value | R.Bare | None, fact: FactDef, unit: str, actual: bool) -> R.Value:
    """A bare value typed again by its fact: the inverse of `bare` (a typed value is returned as it is)."""
    if value is None:
        return R.NotGiven()
    if isinstance(value, msgspec.Struct):
        return value
    if isinstance(value, tuple):
        if actual:  # an actual list is the members of a set; a threshold's, the values it allows
            return R.typed(frozenset(value))
        return R.typed(tuple(_scalar(v, fact) for v in value), unit)
    return R.typed(_scalar(value, fact), unit)


def _scalar(value: str | bool, fact: FactDef) -> object:
    if isinstance(value, bool) or fact.type not in ("quantity", "date"):
        return value
    return Decimal(value) if fact.type == "quantity" else dt.date.fromisoformat(value)


def retyped(clause: R.Clause, fact: FactDef) -> R.Clause:
    """A compact record's clause with its threshold and actual value typed again, as the full record has them."""
    return msgspec.structs.replace(clause, threshold=typed(clause.threshold, fact, clause.unit, False),
                                   actual=typed(clause.actual, fact, clause.unit, True), unit="")


def retype(record: R.Record, ruleset: RuleSet) -> R.Record:
    """A compact record with its clauses' values typed again by the facts of `ruleset` (which need
    not be the rules it was decided under: a clause whose rule or path these rules lack stays bare),
    so that two records' clauses compare, and show, as values."""
    if not isinstance(record, R.Decision) or record.detail == "full":
        return record
    considered = []
    known = {r.id for r in ruleset.rules}
    for c in record.considered:
        at = _comparisons(ruleset.rule(c.rule)) if c.rule in known else {}
        considered.append(msgspec.structs.replace(c, clauses=tuple(
            retyped(x, ruleset.facts[at[x.path].fact]) if x.path in at else x for x in c.clauses)))
    return msgspec.structs.replace(record, considered=tuple(considered))


class Unresolved(AmpcError):
    """A compact record decided under rules that are not the ones given: its words cannot be restored."""


def expand(record: R.Record, ruleset: RuleSet) -> R.Record:
    """The record with the rules' words put back from the rule set it was decided under (same
    sha256); the clauses a compact record left out (those that held) stay out."""
    if not isinstance(record, R.Decision) or record.detail == "full":
        return record
    if record.ruleset.sha256 != ruleset.sha256:
        raise Unresolved(f"record {record.product} was decided under rules sha256 {record.ruleset.sha256[:12]}, "
                         f"not these ({ruleset.sha256[:12]}): its rule texts cannot be restored (fix: give "
                         "--rules the rule set it was decided under, or write records with --detail full)")
    considered = []
    when = When(record.dates.sale, record.dates.production, record.dates.taxable_year_begins)
    explainer = Explainer(ruleset)  # the date a parameter's value is in force from, as the decider read it
    for c in record.considered:
        rule = ruleset.rule(c.rule)
        at = _comparisons(rule)
        clauses = []
        for x in c.clauses:
            cmp = at.get(x.path)
            if cmp is None:
                raise Unresolved(f"record {record.product}: rule {rule.id} has no clause at {x.path} in these rules")
            fact = ruleset.facts[cmp.fact]
            clauses.append(msgspec.structs.replace(
                retyped(x, fact), clause=cmp.clause, rule=c.rule, fact=cmp.fact, op=cmp.op, param=cmp.param or None,
                param_from=explainer.since(cmp, when), derived=fact.derived))
        considered.append(msgspec.structs.replace(
            c, stage=rule.stage, line=rule.line, label=rule.label,
            cite=_cite(rule, when, record.ruleset.law_as_enacted_by), text=rule.text, source=rule.where,
            in_force=R.InForce(rule.keyed_on, rule.in_force_from, rule.in_force_to), clauses=tuple(clauses)))
    flags = tuple(msgspec.structs.replace(f, note=_note(f, ruleset)) for f in record.flags)
    facts = record.facts or _facts(record, ruleset)
    return msgspec.structs.replace(record, considered=tuple(considered), flags=flags,
                                   facts=facts)  # still compact: clauses left out


def _note(flag: R.Flag, ruleset: RuleSet) -> str:
    """A flag's words, as the decider wrote them: the open reading's rule notes, the precedence's reason."""
    if flag.note or not flag.rules:
        return flag.note
    if flag.kind == "interpretation":
        return ruleset.rule(flag.rules[0]).notes
    if flag.kind == "overlap" and flag.precedence:
        return next((p.reason for p in ruleset.precedence if p.id == flag.precedence), "")
    return ""


def _facts(record: R.Decision, ruleset: RuleSet) -> dict[str, R.Value]:
    """The facts the product was decided on: its inputs read again by the rule set (the same reading)."""
    from ampc.io.catalog import prepare
    from ampc.records.verify import row_of
    row = row_of(record)
    prepare([row], ruleset)
    if row.problem is not None:
        raise Unresolved(f"record {record.product}: its inputs cannot be read again ({row.problem.message})")
    return R.typed_facts(row.facts, ruleset.facts)


def _cite(rule: Rule, when: When, known_on: dt.date | None) -> dict[str, str]:
    """The rule's citations as the record's decision had them: those in force for its taxable year,
    under the edition it was decided in (an amendment enacted later was not yet the law's)."""
    if known_on is not None and any(a.enacted > known_on for a in rule.cite_as_amended):
        rule = replace(rule, cite_as_amended=tuple(a for a in rule.cite_as_amended if a.enacted <= known_on))
    return {k: str(v) for k, v in rule.cite_for(when).items()}


def _comparisons(rule: Rule) -> dict[str, Cmp]:
    """Each comparison of the rule by its place in the condition tree (as the explainer names it:
    all[2], all[3]/any[1], ...)."""
    out: dict[str, Cmp] = {}

    def walk(cond: Cond, path: str) -> None:
        if isinstance(cond, Cmp):
            out[path or "all"] = cond
        elif isinstance(cond, Not):
            walk(cond.item, f"{path}/not")
        else:
            kind = "all" if isinstance(cond, All) else "any"
            for i, item in enumerate(cond.items):
                walk(item, f"{path}/{kind}[{i + 1}]" if path else f"{kind}[{i + 1}]")
    walk(rule.when, "")
    return out
