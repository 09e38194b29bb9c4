"""Generated boundary tests, and the coverage of every clause by the tests.

For every comparison clause of every rule (at_least, more_than, at_most, less_than on a quantity
or a date), three products are made from a test case that reaches the rule: the fact set to the
clause's threshold (as the record states it in force for that case), one step inside and one step
outside. The step is the fact's precision: one day for a date; for a quantity the precision its
definition declares (a count of cells: 1), else the finest difference the engine tells apart,
10**-COMPARED_PLACES of its unit (every value is compared exactly to that many places, rules/units.py),
so a boundary shown to flip there is exact, not merely close. Each product is
decided through the one pipeline (the engine decides, the explainer explains) and checked twice:
the clause's verdict in the record must be what the operator says of the value against the
threshold, and where the rest of the rule is unchanged the rule must hold exactly when the clause
lets it, both in the explanation and in what the engine fired. A point outside the fact's declared
range (below a minimum of zero) is not a product and is skipped.

Coverage: a clause is covered when some test, a YAML case or a generated product, makes it true
and some test makes it false. Clauses of facts that cannot be given (concluded by an earlier stage,
or computed without a way to give them) are covered only by the cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ampc.analysis.cases import Case, decide
from ampc.io.values import catalog_value
from ampc.records import record as R
from ampc.rules.model import All, Cmp, Cond, Not, Rule, RuleSet, step_of
from ampc.rules.units import COMPARED_PLACES

ORDERED = ("at_least", "more_than", "at_most", "less_than")
STEP = Decimal(1).scaleb(-COMPARED_PLACES)
DAY = dt.timedelta(days=1)


def clauses_of(cond: Cond, path: str = "") -> Iterator[tuple[str, Cmp]]:
    """Each comparison of a condition with its path, named as the explainer names it ('all[2]/any[1]')."""
    if isinstance(cond, Cmp):
        yield path or "all", cond
    elif isinstance(cond, Not):
        yield from clauses_of(cond.item, f"{path}/not")
    else:
        kind = "all" if isinstance(cond, All) else "any"
        for i, item in enumerate(cond.items):
            yield from clauses_of(item, f"{path}/{kind}[{i + 1}]" if path else f"{kind}[{i + 1}]")


def verdict_of(op: str, value, threshold) -> bool:
    """What the operator says, in the law's words: not less than, greater than, not greater than, less than."""
    return {"at_least": value >= threshold, "more_than": value > threshold,
            "at_most": value <= threshold, "less_than": value < threshold}[op]


def rule_result(cond: Cond, verdicts: dict[str, str], path: str = "") -> bool | None:
    """The rule's result from its clauses' verdicts (true, false, unknown), by its condition tree."""
    if isinstance(cond, Cmp):
        return {"true": True, "false": False}.get(verdicts.get(path or "all", "unknown"))
    if isinstance(cond, Not):
        inner = rule_result(cond.item, verdicts, f"{path}/not")
        return None if inner is None else not inner
    kind = "all" if isinstance(cond, All) else "any"
    results = [rule_result(item, verdicts, f"{path}/{kind}[{i + 1}]" if path else f"{kind}[{i + 1}]")
               for i, item in enumerate(cond.items)]
    if kind == "all":
        return False if False in results else (None if None in results else True)
    return True if True in results else (None if None in results else False)


@dataclass(frozen=True)
class Point:
    """One generated product: a rule's clause, its threshold, the value given and where it lies."""

    rule: str
    path: str
    fact: str
    op: str
    threshold: Decimal | dt.date
    value: Decimal | dt.date
    place: str  # at | inside | outside: at the threshold, one step on the side that meets it, or not
    base: str  # the test case it is made from
    unit: str = ""
    want: bool = True  # the clause's verdict on the value, by the operator's words

    @property
    def expected(self) -> bool:
        return self.want


@dataclass(frozen=True)
class Checked:
    point: Point
    problems: tuple[str, ...] = ()  # what the record says against the point ('' when all is well)
    record: R.Record | None = None
    apart: tuple[tuple[str, str, str], ...] = ()  # verdicts of a rule the record does not consider


def verdict_apart(ruleset: RuleSet, decider, case: Case, rule: Rule, path: str) -> str:
    """A clause's verdict on a product whose record does not consider its rule (a rule of another
    kind, or a class rule of a product its identify rule rejects): the explainer's, on the facts
    and the conclusions of the earlier stages, as the engine had them when it did not fire it."""
    from ampc.decide.pipeline import as_of_for, rows_of
    row = rows_of([{"product": case.name, **({"as_of": case.as_of} if case.as_of else {}), **case.facts}],
                  case.file, ruleset)[0]
    date, _ = as_of_for(row, None, ruleset.role("sale_date"))
    when = decider.when_for(row.facts, date)
    _results, derived = decider.explain(row.facts, when)
    result = decider.explainer.evaluate(rule, {**row.facts, **derived}, when)
    check = next(c for c in result.checks if c.path == path)
    return {True: "true", False: "false"}.get(check.passed, "unknown")


@dataclass
class Coverage:
    """Per clause (rule, path): the verdicts some test gave it."""

    clauses: dict[tuple[str, str], Cmp] = field(default_factory=dict)
    seen: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, record: R.Record) -> None:
        for considered in getattr(record, "considered", ()):
            for clause in considered.clauses:
                self.seen.setdefault((considered.rule, clause.path), set()).add(clause.verdict)

    def add_checked(self, checked: Checked) -> None:
        if checked.problems:
            return  # a point the rules get wrong covers nothing
        if checked.record is not None:
            self.add(checked.record)
        for rule, path, verdict in checked.apart:
            self.seen.setdefault((rule, path), set()).add(verdict)

    def uncovered(self) -> list[tuple[str, str, Cmp, tuple[str, ...]]]:
        """The clauses no test makes both true and false: (rule, path, clause, the verdicts seen)."""
        out = []
        for key, cmp in self.clauses.items():
            seen = self.seen.get(key, set())
            if not {"true", "false"} <= seen:
                out.append((*key, cmp, tuple(sorted(seen))))
        return out


def coverage_of(ruleset: RuleSet) -> Coverage:
    cov = Coverage()
    for rule in ruleset.rules:
        for path, cmp in clauses_of(rule.when):
            cov.clauses[(rule.id, path)] = cmp
    return cov


def _givable(ruleset: RuleSet, fact: str) -> bool:
    f = ruleset.facts[fact]
    return not f.derived and (not f.computed or bool(f.given_instead_of))


def _threshold(clause: R.Clause) -> Decimal | dt.date | None:
    if isinstance(clause.threshold, R.Quantity):
        return clause.threshold.value
    if isinstance(clause.threshold, R.Day):
        return clause.threshold.value
    return None


def points(ruleset: RuleSet, bases: dict[tuple[str, str], tuple[Case, R.Decision]]) -> list[Point]:
    """At, inside and outside each comparison's threshold, from the case it was first reached in."""
    out = []
    for rule in ruleset.rules:
        for path, cmp in clauses_of(rule.when):
            if cmp.op not in ORDERED or (rule.id, path) not in bases or not _givable(ruleset, cmp.fact):
                continue
            case, record = bases[(rule.id, path)]
            clause = next(c for c in record.considered_rule(rule.id).clauses if c.path == path)
            threshold = _threshold(clause)
            if threshold is None:
                continue
            fact = ruleset.facts[cmp.fact]
            step = step_of(fact)  # a day, the fact's declared precision, or the finest compared
            below, above = threshold - step, threshold + step
            inside, outside = (above, below) if cmp.op in ("at_least", "more_than") else (below, above)
            for place, value in (("at", threshold), ("inside", inside), ("outside", outside)):
                if isinstance(value, Decimal) and (fact.minimum is not None and value < fact.minimum
                                                   or fact.maximum is not None and value > fact.maximum):
                    continue  # not a value the fact can take
                out.append(Point(rule.id, path, cmp.fact, cmp.op, threshold, value, place, case.id, fact.unit,
                                 verdict_of(cmp.op, value, threshold)))
    return out


def flips(ruleset: RuleSet, bases: dict[tuple[str, str], tuple[Case, R.Decision]], explainer) -> list[Point]:
    """For each is / one_of clause on a fact a catalog gives: the product with a value that meets it
    and one with a value that does not (another value of the fact; the other truth value)."""
    out = []
    for rule in ruleset.rules:
        for path, cmp in clauses_of(rule.when):
            if cmp.op not in ("is", "one_of") or (rule.id, path) not in bases or not _givable(ruleset, cmp.fact):
                continue
            case, record = bases[(rule.id, path)]
            fact = ruleset.facts[cmp.fact]
            expected = explainer.expected(cmp, record.dates.sale)
            wanted = set(expected) if cmp.op == "one_of" else {expected}
            if fact.type == "bool":
                meets, fails = next(iter(wanted)), not next(iter(wanted))
            else:
                others = [v for v in fact.values if v not in wanted]
                if not others:
                    continue
                meets, fails = sorted(wanted, key=str)[0], others[0]
            for place, value, want in (("meets", meets, True), ("fails", fails, False)):
                shown = [value] if fact.type == "set" else value
                out.append(Point(rule.id, path, cmp.fact, cmp.op, expected, shown, place, case.id, "", want))
    return out


def bases_from(cases: Iterable[tuple[Case, R.Record]]) -> dict[tuple[str, str], tuple[Case, R.Decision]]:
    """For each clause, the first case whose record evaluates it with a known value, preferring one
    where its rule holds (so that the clause alone decides the rule)."""
    out: dict[tuple[str, str], tuple[Case, R.Decision]] = {}
    holding: set[tuple[str, str]] = set()
    for case, record in cases:
        for considered in getattr(record, "considered", ()):
            for clause in considered.clauses:
                key = (considered.rule, clause.path)
                if clause.verdict == "unknown" or key in holding or isinstance(clause.threshold, R.NotStatedByLaw):
                    continue
                if considered.result == "holds":
                    out[key] = (case, record)
                    holding.add(key)
                else:
                    out.setdefault(key, (case, record))
    return out


def check(ruleset: RuleSet, decider, point: Point, base: tuple[Case, R.Decision]) -> Checked:
    case, before = base
    facts = dict(case.facts)
    fact = ruleset.facts[point.fact]
    for given in fact.given_instead_of:  # the ratio given itself: not also the costs it is computed from
        facts.pop(given, None)
    facts[point.fact] = catalog_value(point.value, fact.unit)
    changed = Case(case.name, case.file, case.line, facts, {}, case.as_of)
    record = decide(changed, decider)
    if not isinstance(record, R.Decision):
        return Checked(point, (f"the product was refused: {record.error.message}",), record)
    rule = ruleset.rule(point.rule)
    considered = record.considered_rule(point.rule)
    if considered is None:  # a rule of another kind, or past a stage the product did not reach
        verdict = verdict_apart(ruleset, decider, changed, rule, point.path)
        if verdict != ("true" if point.expected else "false"):
            return Checked(point, (f"the clause is {verdict}, where {point.op} says {str(point.expected).lower()}",),
                           record)
        return Checked(point, (), record, ((point.rule, point.path, verdict),))
    verdicts = {c.path: c.verdict for c in considered.clauses}
    problems = []
    got = verdicts.get(point.path)
    if got != ("true" if point.expected else "false"):
        problems.append(f"the clause is {got}, where {point.op} says {str(point.expected).lower()}")
    old = {c.path: c.verdict for c in before.considered_rule(point.rule).clauses}
    unchanged = all(old.get(p) == v for p, v in verdicts.items() if p != point.path)
    if unchanged and not problems:
        expected = rule_result(rule.when, verdicts)
        word = {True: "holds", False: "fails", None: "undetermined"}[expected]
        if considered.result != word:
            problems.append(f"the rule {considered.result}, where its clauses say it {word}")
        stage_ran = any(r.stage == rule.stage for r in (ruleset.rule(x) for x in record.chain)) or expected
        if stage_ran and (point.rule in record.chain) != (expected is True):
            problems.append("the engine " + ("did not fire" if expected else "fired") + " the rule, where "
                            f"its clauses say it {word}")
    return Checked(point, tuple(problems), record)


def derived_checks(ruleset: RuleSet, decider, decided: Iterable[tuple[Case, R.Record]]) -> list[Checked]:
    """A clause on a fact an earlier stage concludes (is_inverter, the kind of mineral) is made false by
    a case whose earlier stage concluded otherwise: the class rule, not fired by the engine, is
    evaluated on that case by the explainer, and its clause must be false."""
    decided = [(c, r) for c, r in decided if isinstance(r, R.Decision)]
    out = []
    for rule in ruleset.rules:
        for path, cmp in clauses_of(rule.when):
            if cmp.op != "is" or not ruleset.facts[cmp.fact].derived:
                continue
            for case, record in decided:
                value = record.derived.get(cmp.fact)
                if value is None or getattr(value, "value", None) == cmp.literal or rule.family not in (
                        record.facts.get(ruleset.role("kind"), R.Text("")).value, "any"):
                    continue
                point = Point(rule.id, path, cmp.fact, cmp.op, cmp.literal, value.value, "concluded otherwise",
                              case.id, "", False)
                verdict = verdict_apart(ruleset, decider, case, rule, path)
                problems = []
                if verdict != "false":
                    problems.append(f"the clause is {verdict}, where {cmp.fact} is concluded {value.value}")
                if rule.id in record.chain:
                    problems.append("the engine fired the rule, though its clause on the earlier stage's "
                                    "conclusion fails")
                out.append(Checked(point, tuple(problems), None, ((rule.id, path, verdict),)))
                break
    return out


@dataclass
class BoundaryRun:
    """The generated products of one rule set (edition), their checks, and the clauses' coverage."""

    label: str
    checked: list[Checked]
    coverage: Coverage

    @property
    def wrong(self) -> list[Checked]:
        return [c for c in self.checked if c.problems]


def run_boundaries(ruleset: RuleSet, decider, decided: list[tuple[Case, R.Record]], label: str = "") -> BoundaryRun:
    """Every generated product decided and checked, and coverage over the cases and those products."""
    bases = bases_from(decided)
    generated = points(ruleset, bases) + flips(ruleset, bases, decider.explainer)
    checked = [check(ruleset, decider, p, bases[(p.rule, p.path)]) for p in generated]
    checked += derived_checks(ruleset, decider, decided)
    cov = coverage_of(ruleset)
    for _case, record in decided:
        cov.add(record)
    for c in checked:
        cov.add_checked(c)
    return BoundaryRun(label, checked, cov)


def render_boundaries(run: BoundaryRun) -> str:
    lines = []
    for c in run.wrong:
        p = c.point
        lines.append(f"WRONG {p.rule} {p.path}: {p.fact} {catalog_value(p.value, p.unit)} ({p.place} {p.op} "
                     f"{catalog_value(p.threshold, p.unit)}), from case '{p.base}': " + "; ".join(c.problems))
    uncovered = run.coverage.uncovered()
    for rule, path, cmp, seen in uncovered:
        shown = " and ".join(seen) if seen else "never evaluated"
        lines.append(f"UNCOVERED {rule} {path}: {cmp.fact} {cmp.op} ({cmp.where}): only {shown}")
    total = len(run.coverage.clauses)
    name = f"{run.label}: " if run.label else ""
    lines.append(f"{name}{len(run.checked)} generated products, {len(run.wrong)} wrong; {total} clauses, "
                 f"{total - len(uncovered)} made both true and false by some test, {len(uncovered)} not")
    return "\n".join(lines) + "\n"


def boundaries_json(run: BoundaryRun) -> dict:
    def point(c: Checked) -> dict:
        p = c.point
        return {"rule": p.rule, "path": p.path, "fact": p.fact, "op": p.op,
                "threshold": catalog_value(p.threshold, p.unit), "value": catalog_value(p.value, p.unit),
                "place": p.place, "case": p.base, "problems": list(c.problems)}
    return {"rules": run.label, "generated": len(run.checked), "wrong": [point(c) for c in run.wrong],
            "clauses": len(run.coverage.clauses),
            "uncovered": [{"rule": r, "path": path, "fact": cmp.fact, "op": cmp.op, "where": cmp.where,
                           "seen": list(seen)} for r, path, cmp, seen in run.coverage.uncovered()]}
