"""What would qualify: for a product rejected or undetermined, the smallest change of its own facts
that makes it qualify on each candidate line, each change re-decided through the one pipeline.

A candidate is every class rule of the product's kind in force on its dates. To qualify on it the
product must be identified (an identify rule holds), meet the class rule, win it (no class rule
ranked before it holds or is pending) and meet every qualify-stage rule in force for its kind. The
conditions are read as constraints on facts: an `all` joins them, an `any` gives alternatives, a
`not` flips its operators (at_least <-> less_than, more_than <-> at_most, is / one_of -> excluded
values). The constraints on one fact are intersected (more than 125 kW and at most 1,000 kW) and
the value in them nearest the actual one is taken: the threshold for at_least / at_most, one step
(10**-18 of the unit, one day for a date) past it for more_than / less_than, the nearest allowed
value of a list. A fact concluded by an earlier stage (is_inverter) is replaced by the conditions
of the rules that conclude it. The alternative changing the fewest facts wins.

The dates the law is read at (the facts with roles sale_date, production_date, taxable_year_begins)
and the kind of component are not the product's own facts to change: an alternative that needs one
of them changed is blocked, and a candidate whose every alternative is blocked is unreachable, with
the rules and clauses that stand in the way (termination.wind: sale_date at most 2027-12-31). A
date not given may be stated. Every suggestion is re-decided with the change applied, as a one-row
catalog through `decide_mappings`; one that does not then qualify on its line is marked not
verified, never reported as working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ampc.analysis.constraints import DAY, STEP, Need, Why, native, need_of, ordered  # noqa: F401
from ampc.analysis.qualify_record import Blocker, Candidate, Change, WhatWouldQualify, schema, to_json  # noqa: F401
from ampc.io.values import catalog_value
from ampc.records import record as R
from ampc.rules.formula import facts_used
from ampc.rules.model import All, Cmp, Cond, Not, Rule, RuleSet, When
from ampc.rules.operators import settled_for_every

KEPT = 64  # alternatives kept at each conjunction, the cheapest first
TRIES = 4  # plans re-decided per round before the outranking class rules are excluded
DATE_ROLES = ("sale_date", "production_date", "taxable_year_begins")
NEGATED = {"at_least": "less_than", "more_than": "at_most", "at_most": "more_than", "less_than": "at_least",
           "is": "is_not", "one_of": "none_of"}
LABEL = "what-would-qualify"


# ---------------------------------------------------------------------------------------------------
# the search

Alt = dict  # fact -> Need: one way for a conjunction of clauses to hold


@dataclass(frozen=True)
class Plan:
    changes: tuple[tuple[str, Need, Any], ...]  # fact, its need, the value it takes
    blockers: tuple[tuple[str, Need, str], ...]  # fact, its need, why it cannot change

    @property
    def cost(self) -> tuple[int, int]:
        return len(self.blockers), len(self.changes)


class Solver:
    """The changes that make one product qualify, line by line."""

    def __init__(self, ruleset: RuleSet, decider, record: R.Decision, facts: dict[str, Any] | None = None):
        self.rs, self.decider, self.record = ruleset, decider, record
        self.explainer = decider.explainer
        self.facts = dict(facts) if facts is not None else {k: native(v) for k, v in record.facts.items()}
        self.values = {**self.facts, **{k: native(v) for k, v in record.derived.items()}}
        d = record.dates
        self.when = When(d.sale, d.production, d.taxable_year_begins)
        self.family = self.facts.get(ruleset.role("kind"))
        self.date_facts = {ruleset.roles[r]: r for r in DATE_ROLES if r in ruleset.roles}
        self.rules = [r for r in ruleset.rules if r.applies_to(self.family) and r.in_force(self.when)]
        kinds = {s.name: s.kind for s in ruleset.stages}
        self.derivers = [r for r in self.rules if kinds[r.stage] == "derive"]
        self.classes = [r for r in self.rules if kinds[r.stage] == "choose"]
        self.requires = [r for r in self.rules if kinds[r.stage] == "require"]
        self._paths: dict[int, str] = {}

    # -- conditions to alternatives ---------------------------------------------------------------
    def alts(self, rule: Rule, cond: Cond, negate: bool = False) -> list[Alt]:
        if isinstance(cond, Not):
            return self.alts(rule, cond.item, not negate)
        if isinstance(cond, Cmp):
            return self._cmp(rule, cond, negate)
        parts = [self.alts(rule, item, negate) for item in cond.items]
        if isinstance(cond, All) != negate:
            return self.both(parts)
        return [a for part in parts for a in part]

    def both(self, parts: list[list[Alt]]) -> list[Alt]:
        """The alternatives of a conjunction: each one of every part, merged; the cheapest kept."""
        out: list[Alt] = [{}]
        for part in parts:
            merged = []
            for a in out:
                for b in part:
                    alt = dict(a)
                    for fact, need in b.items():
                        alt[fact] = alt[fact].merge(need) if fact in alt else need
                    merged.append(alt)
            ranked = sorted(((p.cost, i) for i, alt in enumerate(merged) if (p := self.plan(alt)) is not None))
            out = [merged[i] for _, i in ranked[:KEPT]]
        return out

    def _cmp(self, rule: Rule, cmp: Cmp, negate: bool) -> list[Alt]:
        fact = self.rs.facts[cmp.fact]
        expected = self.explainer.expected(cmp, self.when)
        if fact.derived and cmp.op == "is":
            concluding = [r for r in self.derivers if cmp.fact in r.then]
            matching = [r for r in concluding if r.then[cmp.fact] == expected]
            if concluding and (matching or expected is False):
                if not matching:  # `is false`: none of the rules that conclude it holds
                    matching, negate = concluding, not negate
                if negate:
                    return self.both([self.alts(r, r.when, True) for r in matching])
                return [a for r in matching for a in self.alts(r, r.when)]
        op = NEGATED[cmp.op] if negate else cmp.op
        if isinstance(expected, R.NotStatedByLaw):  # met only where every value it could take agrees
            hold, fail = settled_for_every(cmp.op, fact.minimum, fact.maximum)
            settled = fail if negate else hold
            if settled is None:
                return [{cmp.fact: Need(stated=False, why=(Why(rule, cmp, op, expected),))}]
            op, value = settled
            return [{cmp.fact: need_of(op, value, fact, Why(rule, cmp, op, value, cmp.param))}]
        return [{cmp.fact: need_of(op, expected, fact, Why(rule, cmp, op, expected))}]

    # -- an alternative to the changes it needs -----------------------------------------------------
    def plan(self, alt: Alt) -> Plan | None:
        changes, blockers = [], []
        for name, need in alt.items():
            actual = self.values.get(name)
            if need.holds(actual):
                continue
            if not need.stated:
                blockers.append((name, need, "not_stated"))
                continue
            fact = self.rs.facts[name]
            if name in self.date_facts and actual is None:  # a date not given: it may be stated
                actual = self.when.date_for({"sale_date": "sale", "production_date": "production"}.get(
                    self.date_facts[name], "taxable_year"))
                if self.date_facts[name] == "sale_date" and not need.holds(actual):  # the date of sale is as_of
                    blockers.append((name, need, "fixed"))
                    continue
            value = need.nearest(actual, fact)
            if value is None:
                return None
            if fact.derived:
                blockers.append((name, need, "derived"))
            elif name == self.rs.role("kind") or (name in self.date_facts and self.values.get(name) is not None):
                blockers.append((name, need, "fixed"))
            else:
                changes.append((name, need, value))
        return Plan(tuple(changes), tuple(blockers))

    def plans(self, parts: list[list[Alt]]) -> list[Plan]:
        plans = [p for alt in self.both(parts) if (p := self.plan(alt)) is not None]
        return sorted(plans, key=lambda p: p.cost)

    # -- one candidate ------------------------------------------------------------------------------
    def candidate(self, target: Rule) -> Candidate:
        parts = [self.alts(target, target.when)]
        if self.derivers:  # identified: one identify rule holds
            parts.append([a for r in self.derivers for a in self.alts(r, r.when)])
        parts += [self.alts(r, r.when) for r in self.requires]
        excluded: list[Rule] = []
        first: tuple[Plan, R.Record | None] | None = None
        for _ in range(len(self.classes)):
            plans = self.plans(parts + [self.alts(r, r.when, True) for r in excluded])
            if not plans:
                break
            if plans[0].blockers:
                return self._candidate(target, plans[0], None)
            tried = []
            for plan in plans[:TRIES]:
                if plan.blockers:
                    break
                record = self.redecide(plan)
                if _qualifies(record, target.line):
                    return self._candidate(target, plan, record)
                tried.append(record)
                first = first or (plan, record)
            outranking = {c.rule for record in tried if isinstance(record, R.Decision) for c in record.considered
                          if c.stage == target.stage and c.result in ("holds", "undetermined") and c.rule != target.id}
            new = [r for r in self.classes if r.id in outranking and r not in excluded and self._outranks(r, target)]
            if not new:
                break
            excluded += new
        if first is None:
            return Candidate(line=target.line, rule=target.id, label=target.label, reachable=False,
                             note="no values of the product's facts meet every clause at once")
        return self._candidate(target, *first)

    def _near(self, rule: Rule) -> bool:
        """The product meets the rule's first condition of its own (the mineral it names): a candidate
        it failed on its terms, not on its kind (as the decider's `relevant`)."""
        checks = self.explainer.evaluate(rule, self.values, self.when).checks
        first = next((c for c in checks if not c.derived), None)
        return first is not None and first.passed is True

    def _outranks(self, other: Rule, target: Rule) -> bool:
        order = self.rs.order_for(self.family)
        if order and other.id in order.order and target.id in order.order:
            return order.order.index(other.id) < order.order.index(target.id)
        return True  # no declared order between them: both holding leaves the line undetermined

    def redecide(self, plan: Plan) -> R.Record | None:
        """The product decided again with the changes, as a one-row catalog (None: a change of a
        computed fact that a catalog cannot give)."""
        from ampc.decide.pipeline import decide_mappings
        values = dict(self.facts)
        changed = set()
        for name, _needed, value in plan.changes:
            fact = self.rs.facts[name]
            if fact.computed and not fact.given_instead_of:
                return None
            for given in fact.given_instead_of:  # the computed fact given itself, not its inputs
                values.pop(given, None)
            values[name] = value
            changed.add(name)
        item: dict[str, Any] = {"product": self.record.product}
        for name, value in values.items():
            fact = self.rs.facts[name]
            if value is None or fact.derived:
                continue
            if fact.computed and name not in changed and (
                    not fact.given_instead_of or all(values.get(f) is not None for f in facts_used(fact.computed))):
                continue  # computed again from its inputs
            item[name] = catalog_value(value, fact.unit)
        return decide_mappings([item], LABEL, self.decider, self.record.dates.sale)[0]

    def _candidate(self, target: Rule, plan: Plan, record: R.Record | None) -> Candidate:
        changes = tuple(self._change(name, need, value) for name, need, value in plan.changes)
        blockers = tuple(b for name, need, why in plan.blockers for b in self._blockers(name, need, why))
        verified = not plan.blockers and _qualifies(record, target.line)
        note = ""
        if not plan.blockers and record is None:
            note = "a computed fact no catalog can give: change the facts it is computed from"
        elif not plan.blockers and not verified:
            note = "re-decided with these changes it does not qualify on this line"
        return Candidate(line=target.line, rule=target.id, label=target.label, reachable=not plan.blockers,
                         changes=changes, blocked_by=blockers, verified=verified,
                         after=None if record is None else record.outcome,
                         after_line=None if record is None else record.line, note=note)

    def _path(self, rule: Rule, cmp: Cmp) -> str:
        if id(cmp) not in self._paths:
            from ampc.analysis.boundaries import clauses_of
            for path, c in clauses_of(rule.when):
                self._paths[id(c)] = path
        return self._paths.get(id(cmp), "all")

    def _failing(self, need: Need, actual: Any) -> Why:
        """The clause the actual value fails (the one the change is made for), else the first."""
        for why in need.why:
            single = need_of(why.op, why.threshold, self.rs.facts[why.cmp.fact], why) if why.threshold is not None \
                and not isinstance(why.threshold, R.NotStatedByLaw) else None
            if single is None or not single.holds(actual):
                return why
        return need.why[0]

    def _change(self, name: str, need: Need, value: Any) -> Change:
        fact = self.rs.facts[name]
        actual = self.values.get(name)
        why = self._failing(need, actual)
        distance = None
        if actual is not None and fact.type == "quantity":
            distance = R.quantity(abs(value - actual), fact.unit)
        elif actual is not None and fact.type == "date":
            distance = R.quantity(abs((value - actual).days), "day")
        return Change(fact=name, op=why.op, threshold=R.typed(why.threshold, fact.unit),
                      from_=R.typed(actual, fact.unit), to=R.typed(value, fact.unit), distance=distance,
                      rule=why.rule.id, clause=why.cmp.clause, path=self._path(why.rule, why.cmp),
                      computed_from=tuple(dict.fromkeys(facts_used(fact.computed))) if fact.computed else (),
                      not_stated=why.unstated)

    def _blockers(self, name: str, need: Need, why: str) -> list[Blocker]:
        fact = self.rs.facts[name]
        actual = self.values.get(name)
        out = []
        for w in need.why:
            if why != "not_stated" and not isinstance(w.threshold, R.NotStatedByLaw):
                if need_of(w.op, w.threshold, fact, w).holds(actual if actual is not None else self._date_of(name)):
                    continue  # this clause alone is met: another one on the fact stands in the way
            threshold = w.threshold if isinstance(w.threshold, R.NotStatedByLaw) else R.typed(w.threshold, fact.unit)
            out.append(Blocker(rule=w.rule.id, fact=name, op=w.op, threshold=threshold,
                               actual=R.typed(actual, fact.unit), why=why, clause=w.cmp.clause,
                               role=self.date_facts.get(name, "kind" if name == self.rs.role("kind") else ""),
                               path=self._path(w.rule, w.cmp)))
        return out

    def _date_of(self, name: str) -> Any:
        role = self.date_facts.get(name)
        return None if role is None else self.when.date_for(
            {"sale_date": "sale", "production_date": "production"}.get(role, "taxable_year"))

    # -- every candidate ----------------------------------------------------------------------------
    def run(self) -> WhatWouldQualify:
        d = self.record
        base = dict(product=d.product, outcome=d.outcome, line=d.line, family=self.family)
        if d.outcome == R.QUALIFIED:
            return WhatWouldQualify(**base, note="qualified")
        if self.family is None:
            return WhatWouldQualify(**base, note="kind_not_given")
        best: dict[str, tuple[tuple, Candidate]] = {}
        for rule in self.classes:  # per line, the rule needing least; a tie to one the product is near
            cand = self.candidate(rule)
            key = (*_rank(cand, {})[:2], len(cand.changes), not self._near(rule), len(cand.blocked_by))
            if rule.line not in best or key < best[rule.line][0]:
                best[rule.line] = (key, cand)
        order = {line: i for i, line in enumerate(self.rs.line_order())}
        ranked = sorted((c for _, c in best.values()), key=lambda c: _rank(c, order))
        return WhatWouldQualify(**base, candidates=tuple(ranked), note="" if ranked else "no_candidate")


def _rank(c: Candidate, order: dict[str, int]) -> tuple:
    index = order.get(c.line, len(order))
    return (not c.reachable, not c.verified, len(c.changes), len(c.blocked_by), index, c.line)


def _qualifies(record: R.Record | None, line: str) -> bool:
    return isinstance(record, R.Decision) and record.outcome == R.QUALIFIED and record.line == line


def what_would_qualify(record: R.Record, decider, facts: dict[str, Any] | None = None) -> WhatWouldQualify:
    """The smallest changes that would make the product qualify, per candidate line, each verified."""
    if not isinstance(record, R.Decision):
        return WhatWouldQualify(product=record.product, outcome=R.ERROR, note="error")
    if facts is None and not record.facts and record.inputs.values:  # a compact record: its inputs read again
        from ampc.io.catalog import prepare
        from ampc.records.verify import row_of
        row = row_of(record)
        prepare([row], decider.ruleset)
        facts = row.facts if row.problem is None else None
    return Solver(decider.ruleset, decider, record, facts).run()


def for_all(records: list[R.Record], ruleset: RuleSet, decider=None) -> list[WhatWouldQualify]:
    """What would qualify for each record (a decider made for them if none is given)."""
    if decider is not None:
        return [what_would_qualify(r, decider) for r in records]
    from ampc.decide.decider import Decider
    with Decider(ruleset) as made:
        return [what_would_qualify(r, made) for r in records]
