"""Static analysis of a rule set, `ampc rules check`: for each kind of component, where its class
rules overlap (two or more hold: the precedence that decides it, and a witness product) and where
they leave a gap (a product of the kind that no class takes, and a witness); rules that can never
hold or never decide; parameters and facts nothing reads; editions of a rule whose periods overlap
or leave a hole.

The reasoning is over intervals and sets (ampc.analysis.cells), not an SMT solver: every clause
compares one fact with a constant, so cutting each fact's domain at the constants gives finitely many
cells and the search over them is exact. Each region found is shown by a witness product, which is
decided through the pipeline `ampc classify` uses; a witness whose record disagrees is an error.

A kind's products are those its identify rules (the `derive` stage) take: the facts those rules
conclude are then known, as the engine concludes them. The analysis is made for each period in which
the class rules, and the parameter values they read, stay the same (the dates the law changes on),
or on one date with --as-of; periods with the same findings are shown as one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ampc.analysis.cells import DAY, Space, merge, words
from ampc.decide.explain import Explainer
from ampc.rules.model import Rule, RuleSet, When, comparisons, params_of

ERROR, WARNING, NOTE = "error", "warning", "note"


@dataclass(frozen=True)
class Region:
    """Products of a kind on which the same class rules hold (none: a gap)."""

    holds: tuple[str, ...]
    where: tuple[tuple[str, str], ...]  # (fact, what the region says of it), the facts it constrains
    witness: dict[str, Any]  # one product of the region, as a catalog row gives it
    winner: str | None = None  # an overlap: the rule that decides, by the declared precedence
    precedence: str | None = None  # the precedence that declares it
    verified: str = ""  # empty: the witness's record agrees; else what it says instead
    unsettled: tuple[str, ...] = ()  # rules the law leaves open there (a threshold not stated)


@dataclass
class KindCheck:
    kind: str
    start: dt.date
    end: dt.date | None
    rules: tuple[str, ...]  # the class rules in force
    overlaps: list[Region] = field(default_factory=list)
    gaps: list[Region] = field(default_factory=list)
    never_hold: list[str] = field(default_factory=list)  # class rules no product of the kind meets
    never_decide: list[str] = field(default_factory=list)  # class rules that hold only where another wins

    def signature(self) -> tuple:
        return (self.rules, [(r.holds, r.where) for r in self.overlaps], [(r.holds, r.where) for r in self.gaps],
                self.never_hold, self.never_decide)


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning | note
    what: str  # overlap_without_precedence | witness_disagrees | never_holds | never_decides | unused_parameter
    # | unused_fact | edition_overlap | edition_hole | never_in_force
    subject: str  # a rule, parameter or fact id
    message: str
    where: str = ""  # file:line
    fix: str = ""


@dataclass
class Report:
    ruleset: RuleSet
    as_of: dt.date | None
    kinds: list[KindCheck] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]


# ---------------------------------------------------------------------------------------------------
# the class rules of each kind

def check(ruleset: RuleSet, as_of: dt.date | None = None, verify: bool = True) -> Report:
    """Every finding of the analysis on the rule set (on one date, or over every period of the law)."""
    explainer = Explainer(ruleset)
    report = Report(ruleset, as_of)
    kind_fact = ruleset.role("kind")
    decider = None
    if verify:
        from ampc.decide.decider import Decider
        decider = Decider(ruleset)
    try:
        for kind in ruleset.facts[kind_fact].values:
            shown: KindCheck | None = None
            for start, end in _periods(ruleset, kind, as_of):
                found = _kind_check(ruleset, explainer, kind, start, end, decider)
                if found is None:
                    continue
                if shown is not None and shown.signature() == found.signature() and shown.end is not None \
                        and shown.end + DAY == start:
                    shown.end = end
                    continue
                shown = found
                report.kinds.append(found)
    finally:
        if decider is not None:
            decider.close()
    report.findings.extend(_kind_findings(ruleset, report.kinds))
    report.findings.extend(never_in_force(ruleset))
    report.findings.extend(edition_findings(ruleset))
    report.findings.extend(never_holding(ruleset, explainer, as_of))
    if ruleset.known_on is None:  # an edition leaves out what later law reads: its facts are not unused
        report.findings.extend(unused(ruleset))
    return report


def class_rules(ruleset: RuleSet, kind: str) -> tuple[list[Rule], list[Rule]]:
    """The kind's identify rules (a `derive` stage) and class rules (a `choose` stage)."""
    derive = {s.name for s in ruleset.stages if s.kind == "derive"}
    choose = {s.name for s in ruleset.stages if s.kind == "choose"}
    of_kind = [r for r in ruleset.rules if r.family == kind]
    return [r for r in of_kind if r.stage in derive], [r for r in of_kind if r.stage in choose]


def _periods(ruleset: RuleSet, kind: str, as_of: dt.date | None) -> list[tuple[dt.date, dt.date | None]]:
    """The periods in which the kind's rules in force and the parameter values they read stay the
    same (each date read as the sale, the production and the first day of the taxable year)."""
    identify, classes = class_rules(ruleset, kind)
    if not classes:
        return []
    if as_of is not None:
        return [(as_of, as_of)]
    days = set()
    for rule in identify + classes:
        days.add(rule.in_force_from)
        if rule.in_force_to is not None:
            days.add(rule.in_force_to + DAY)
        for pid in params_of(rule.when):
            days.update(v.start for v in ruleset.params[pid].values)
    # the law's first day for a product: its class rules in force, and the earliest sale any rule
    # keyed on the sale admits (a taxable year beginning in 2022 holds no sale the credit counts)
    sold = [r.in_force_from for r in ruleset.rules if r.keyed_on == "sale"]
    first = max(min(r.in_force_from for r in classes), min(sold, default=dt.date.min))
    days.add(first)
    starts = sorted(d for d in days if d >= first)
    return [(d, starts[k + 1] - DAY if k + 1 < len(starts) else None) for k, d in enumerate(starts)]


def _kind_check(ruleset: RuleSet, explainer: Explainer, kind: str, start: dt.date, end: dt.date | None,
                decider) -> KindCheck | None:
    when = When(start, start, start)
    identify, classes = class_rules(ruleset, kind)
    identify = [r for r in identify if r.in_force(when)]
    classes = [r for r in classes if r.in_force(when)]
    if not classes:
        return None
    kind_fact = ruleset.role("kind")
    space = Space(ruleset, explainer, identify + classes, when, {kind_fact: kind})
    leaves = space.search(classes, identify)
    keep = set().union(*(space.reads(r) for r in classes))
    regions = merge(leaves, space.vars, keep)
    out = KindCheck(kind, start, end, tuple(r.id for r in classes))
    order = ruleset.order_for(kind)
    held = {rid for leaf in leaves for rid in leaf.holds}
    decides = {ruleset.winner(kind, leaf.holds) for leaf in leaves} - {None}
    out.never_hold = [r.id for r in classes if r.id not in held]
    out.never_decide = [r.id for r in classes if r.id in held and r.id not in decides]
    for leaf in regions:
        if len(leaf.holds) == 1 and not leaf.unsettled:
            continue
        facts = space.witness(leaf.box, classes)
        said: dict[str, list[str]] = {}
        for v, cells in zip(space.vars, leaf.box):
            if len(cells) < len(v.cells):
                said.setdefault(v.fact, []).append(words(v, cells, *_range(ruleset, v.fact)))
        where = tuple((fact, " and ".join(parts)) for fact, parts in said.items())
        holds = tuple(sorted(leaf.holds, key=lambda rid: (ruleset.rank(kind, rid), rid)))
        winner = ruleset.winner(kind, leaf.holds)
        region = Region(holds, where, catalog_row(ruleset, facts, start), winner,
                        order.id if order and winner else None, unsettled=tuple(sorted(leaf.unsettled)))
        if decider is not None:
            region = _verified(ruleset, decider, region, classes)
        (out.overlaps if len(holds) > 1 else out.gaps).append(region)
    return out


def _range(ruleset: RuleSet, fact: str) -> tuple[Any, Any]:
    f = ruleset.facts[fact]
    return f.minimum, f.maximum


def catalog_row(ruleset: RuleSet, facts: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """A product's facts as a catalog row writes them (units in the values, a set as a list), dated."""
    from ampc.io.values import catalog_value
    row = {name: catalog_value(value, ruleset.facts[name].unit) for name, value in facts.items()
           if not ruleset.facts[name].derived}
    roles = ruleset.roles
    for role in ("sale_date", "production_date", "taxable_year_begins"):
        row.setdefault(roles[role], day.isoformat())
    return row


def _verified(ruleset: RuleSet, decider, region: Region, classes: list[Rule]) -> Region:
    """The region with its witness decided through the pipeline: the class rules that hold in the
    record must be the region's, and an overlap's line the winner's."""
    from dataclasses import replace

    from ampc.decide.pipeline import decide_mappings
    from ampc.records import record as R
    record = decide_mappings([{"product": "witness", **region.witness}], "rules check", decider)[0]
    if isinstance(record, R.ErrorRecord):
        return replace(region, verified=f"the witness is an error: {record.error.message}")
    ids = {r.id for r in classes}
    held = tuple(sorted((c.rule for c in record.considered if c.rule in ids and c.result == "holds"),
                        key=lambda rid: region.holds.index(rid) if rid in region.holds else len(region.holds)))
    if set(held) != set(region.holds):
        return replace(region, verified=f"its record has {', '.join(held) or 'no class rule'} holding")
    if region.winner and record.classified_line != ruleset.rule(region.winner).then.get(ruleset.role("line")):
        return replace(region, verified=f"its record classifies it on line {record.classified_line}")
    return region


def _kind_findings(ruleset: RuleSet, kinds: list[KindCheck]) -> list[Finding]:
    out = []
    seen = set()
    for k in kinds:
        period = _period(k.start, k.end)
        for region in k.overlaps:
            if region.winner is None and (k.kind, region.holds) not in seen:
                seen.add((k.kind, region.holds))
                out.append(Finding(ERROR, "overlap_without_precedence", k.kind,
                                   f"{', '.join(region.holds)} all hold for some {k.kind} ({period}) and no precedence "
                                   f"orders them", ruleset.rule(region.holds[0]).where,
                                   f"declare `precedence:` for family {k.kind} listing {', '.join(region.holds)} in "
                                   f"the order that decides (the first wins), with its reason"))
        for region in k.overlaps + k.gaps:
            if region.verified:
                out.append(Finding(ERROR, "witness_disagrees", k.kind,
                                   f"the witness of a region where {', '.join(region.holds) or 'no class'} holds "
                                   f"({period}): {region.verified}", fix="report it: the analysis and the engine "
                                   "disagree on this product"))
        for rid in k.never_hold:
            out.append(Finding(WARNING, "never_holds", rid, f"no {k.kind} meets {rid} ({period})",
                               ruleset.rule(rid).where, "check its clauses against the identify rules and each other"))
        for rid in k.never_decide:
            order = ruleset.order_for(k.kind)
            out.append(Finding(WARNING, "never_decides", rid, f"wherever {rid} holds a rule before it in the "
                               f"precedence {order.id if order else ''} holds too ({period}): it never decides a line",
                               ruleset.rule(rid).where, "check the precedence order, or the rule's conditions"))
    return out


def _period(start: dt.date, end: dt.date | None) -> str:
    if end == start:
        return f"on {start}"
    return f"from {start}" + (f" to {end}" if end else "")


# ---------------------------------------------------------------------------------------------------
# every rule, parameter, fact and edition

def never_in_force(ruleset: RuleSet) -> list[Finding]:
    return [Finding(ERROR, "never_in_force", r.id, f"{r.id} is in force from {r.in_force_from} to {r.in_force_to}: "
                    "never", r.where, "correct its in_force dates") for r in ruleset.rules
            if r.in_force_to is not None and r.in_force_to < r.in_force_from]


def editions_of(ruleset: RuleSet) -> list[list[Rule]]:
    """The editions of each rule: rules of the same stage, kind and label concluding the same, each
    with its own period (battery.module.with_cells to July 4, 2025, and its 2025 edition after)."""
    groups: dict[tuple, list[Rule]] = defaultdict(list)
    for rule in ruleset.rules:
        groups[(rule.stage, rule.family, rule.families, rule.label, tuple(sorted(rule.then.items())))].append(rule)
    return [sorted(g, key=lambda r: r.in_force_from) for g in groups.values() if len(g) > 1]


def edition_findings(ruleset: RuleSet) -> list[Finding]:
    out = []
    for group in editions_of(ruleset):
        for a, b in zip(group, group[1:]):
            if a.keyed_on != b.keyed_on:
                out.append(Finding(WARNING, "edition_keys_differ", b.id, f"{a.id} is keyed on {a.keyed_on}, its "
                                   f"edition {b.id} on {b.keyed_on}: their periods cannot be compared", b.where))
            elif a.in_force_to is None or a.in_force_to >= b.in_force_from:
                out.append(Finding(ERROR, "edition_overlap", b.id, f"{a.id} ({a.period()}) and its edition {b.id} "
                                   f"({b.period()}) are both in force from {b.in_force_from}", b.where,
                                   f"end {a.id} on {b.in_force_from - DAY} (in_force: to), or start {b.id} after "
                                   f"{a.in_force_to or 'its end'}"))
            elif b.in_force_from > a.in_force_to + DAY:
                out.append(Finding(WARNING, "edition_hole", b.id, f"between {a.id} ({a.period()}) and its edition "
                                   f"{b.id} ({b.period()}) no edition is in force from {a.in_force_to + DAY} to "
                                   f"{b.in_force_from - DAY}", b.where,
                                   "close the hole, or say in the rule's notes why the law has none"))
    return out


def never_holding(ruleset: RuleSet, explainer: Explainer, as_of: dt.date | None) -> list[Finding]:
    """Rules of the other stages (qualification) whose condition no product meets on any date they
    are in force (class rules are checked with their kind)."""
    choose = {s.name for s in ruleset.stages if s.kind == "choose"}
    out = []
    for rule in ruleset.rules:
        if rule.stage in choose or (rule.in_force_to is not None and rule.in_force_to < rule.in_force_from):
            continue
        days = {rule.in_force_from} | {v.start for pid in params_of(rule.when) for v in ruleset.params[pid].values
                                       if v.start > rule.in_force_from}
        if as_of is not None:
            days = {as_of} if rule.in_force(When(as_of, as_of, as_of)) else set()
        days = {d for d in days if rule.in_force_to is None or d <= rule.in_force_to}
        if days and not any(_can_hold(ruleset, explainer, rule, When(d, d, d)) for d in days):
            out.append(Finding(WARNING, "never_holds", rule.id, f"no product meets {rule.id} ({rule.period()})",
                               rule.where, "check its clauses: together they exclude every value"))
    return out


def _can_hold(ruleset: RuleSet, explainer: Explainer, rule: Rule, when: When) -> bool:
    space = Space(ruleset, explainer, [rule], when)
    return any(rule.id in leaf.holds for leaf in space.search([rule]))


def unused(ruleset: RuleSet) -> list[Finding]:
    """Parameters no rule or credit line reads, and facts nothing reads: no rule's condition, no
    review condition, no formula, no credit line, no role."""
    from ampc.rules.formula import facts_used
    read_params: set[str] = set()
    read_facts: set[str] = set(ruleset.roles.values())
    for rule in ruleset.rules:
        for cond in (rule.when, rule.review_if):
            if cond is not None:
                read_params.update(params_of(cond))
                read_facts.update(c.fact for c in comparisons(cond))
    for line in ruleset.credits.values():
        names = set(_strings([line.rate, line.base, [p.param for p in line.phase_out]]))
        read_params.update(n for n in names if n in ruleset.params)
        read_facts.update(n for n in names if n in ruleset.facts)
    todo = list(read_facts)
    while todo:
        fact = ruleset.facts.get(todo.pop())
        if fact is not None and fact.computed:
            for used in set(facts_used(fact.computed)) - read_facts:
                read_facts.add(used)
                todo.append(used)
    out = [Finding(WARNING, "unused_parameter", p.id, f"no rule or credit line reads parameter {p.id}", p.where,
                   "compare a rule's clause with it, or remove it") for p in ruleset.params.values()
           if p.id not in read_params]
    out += [Finding(WARNING, "unused_fact", f.name, f"nothing reads fact {f.name}", "",
                    "test it in a rule's clause, or remove it") for f in ruleset.facts.values()
            if f.name not in read_facts]
    return out


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
