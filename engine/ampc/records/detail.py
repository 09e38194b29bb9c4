"""Compact and full records. A compact record keeps every candidate rule's verdict and every clause
that failed or is unknown (and, of a rule that holds, the alternatives that made it hold), with its
actual value, threshold and rule id, and the input cells that hold a value; the
rules' own words (label, text, citation, source, period, the clause's words) it leaves to the rule
set, which the record names by its hash. `expand` puts them back from that rule set."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import msgspec

from ampc.errors import AmpcError
from ampc.records import record as R
from ampc.rules.model import All, Cmp, Cond, Not, Rule, RuleSet, When


def compact(record: R.Record) -> R.Record:
    if not isinstance(record, R.Decision) or record.detail == "compact":
        return record
    considered = tuple(
        msgspec.structs.replace(
            c, label=None, cite=None, text=None, source=None, in_force=None,
            clauses=tuple(msgspec.structs.replace(x, clause="") for x in c.clauses
                          if x.verdict != "true" or (x.decisive and "any[" in x.path)))
        for c in record.considered)
    given = record.inputs  # a cell left empty gives no value: the facts list it as not given
    inputs = msgspec.structs.replace(given, values={k: v for k, v in given.values.items() if v not in ("", None)})
    return msgspec.structs.replace(record, considered=considered, inputs=inputs, detail="compact")


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
    for c in record.considered:
        rule = ruleset.rule(c.rule)
        words = _clause_words(rule)
        considered.append(msgspec.structs.replace(
            c, label=rule.label, cite=_cite(rule, when, record.ruleset.law_as_enacted_by), text=rule.text,
            source=rule.where,
            in_force=R.InForce(rule.keyed_on, rule.in_force_from, rule.in_force_to),
            clauses=tuple(msgspec.structs.replace(x, clause=words.get(x.path, "")) for x in c.clauses)))
    return msgspec.structs.replace(record, considered=tuple(considered))  # still compact: clauses left out


def _cite(rule: Rule, when: When, known_on: dt.date | None) -> dict[str, str]:
    """The rule's citations as the record's decision had them: those in force for its taxable year,
    under the edition it was decided in (an amendment enacted later was not yet the law's)."""
    if known_on is not None and any(a.enacted > known_on for a in rule.cite_as_amended):
        rule = replace(rule, cite_as_amended=tuple(a for a in rule.cite_as_amended if a.enacted <= known_on))
    return {k: str(v) for k, v in rule.cite_for(when).items()}


def _clause_words(rule: Rule) -> dict[str, str]:
    """The words of each comparison of the rule, by its place in the condition tree (as the
    explainer names it: all[2], all[3]/any[1], ...)."""
    out: dict[str, str] = {}

    def walk(cond: Cond, path: str) -> None:
        if isinstance(cond, Cmp):
            out[path or "all"] = cond.clause
        elif isinstance(cond, Not):
            walk(cond.item, f"{path}/not")
        else:
            kind = "all" if isinstance(cond, All) else "any"
            for i, item in enumerate(cond.items):
                walk(item, f"{path}/{kind}[{i + 1}]" if path else f"{kind}[{i + 1}]")
    walk(rule.when, "")
    return out
