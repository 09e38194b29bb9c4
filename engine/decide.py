"""Run: each product through the engine and the explainer, which must agree; build its decision record."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from .compile import EngineResult, Session
from .errors import EngineError
from .evaluate import Explainer, RuleResult, show
from .model import Rule, RuleSet, When, as_when
from .record import QUALIFIED, REJECTED, UNDETERMINED, Considered, Decision, Flag

RESULT_WORD = {True: "holds", False: "fails", None: "undetermined"}


class Decider:
    """Decides products against one rule set; keeps one engine session per as-of date."""

    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self.explainer = Explainer(ruleset)
        self._sessions: dict[tuple, Session] = {}
        self._signatures: dict[When, tuple] = {}
        self._in_force_cache: dict[Session, list[Rule]] = {}

    def rank(self, family: str, rule_id: str) -> int:
        order = self.ruleset.order_for(family)
        if order and rule_id in order.order:
            return order.order.index(rule_id)
        return len(order.order) if order else 0

    def winner(self, family: str, fired: list[str]) -> str | None:
        """The rule that decides among several that hold: precedence, else the only one, else none."""
        if len(fired) == 1:
            return fired[0]
        order = self.ruleset.order_for(family)
        if not order or any(rid not in order.order for rid in fired):
            return None
        return min(fired, key=lambda rid: order.order.index(rid))

    def session(self, when: When | dt.date) -> Session:
        """One compiled engine per distinct set of rules and parameter values in force."""
        when = as_when(when)
        signature = self._signatures.get(when)
        if signature is None:
            signature = (tuple(r.id for r in self.ruleset.rules if r.in_force(when)),
                         tuple((p.id, e.start if e else None) for p in self.ruleset.params.values()
                               for e in [p.entry(when)]))
            self._signatures[when] = signature
        if signature not in self._sessions:
            self._sessions[signature] = Session(self.ruleset, when, self.explainer, self.winner)
        return self._sessions[signature]

    def _in_force(self, when: When) -> list[Rule]:
        key = self.session(when)
        if key not in self._in_force_cache:
            self._in_force_cache[key] = [r for r in self.ruleset.rules if r.in_force(when)]
        return self._in_force_cache[key]

    def when_for(self, facts: dict[str, Any], as_of: dt.date | When) -> When:
        """The product's dates: the sale at as_of, its production date if given, and the first day
        of the taxpayer's taxable year if given, else January 1 of the year of sale (a calendar year)."""
        if isinstance(as_of, When):
            return as_of
        production = facts.get("production_date") or as_of
        taxable = facts.get("taxable_year_begins") or dt.date(as_of.year, 1, 1)
        return When(as_of, production, taxable)

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()

    def __enter__(self) -> Decider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the explainer's side -------------------------------------------------------------------
    def explain(self, facts: dict[str, Any], as_of: When | dt.date) -> tuple[dict[str, RuleResult], dict]:
        """Every rule in force that applies to the product's kind, clause by clause. Rules of other
        kinds cannot hold (each names its kind); the agreement check verifies the engine fired none."""
        as_of = as_when(as_of)
        values = dict(facts)
        family = facts.get("component")
        results: dict[str, RuleResult] = {}
        for stage in self.ruleset.stages:
            rules = [r for r in self._in_force(as_of) if r.stage == stage.name and r.applies_to(family)]
            for rule in rules:
                results[rule.id] = self.explainer.evaluate(rule, values, as_of)
            if stage.kind == "derive":
                concluded: dict[str, list[RuleResult]] = {}
                for rule in rules:
                    for fact in rule.then:
                        concluded.setdefault(fact, []).append(results[rule.id])
                for fact, rrs in concluded.items():
                    held = [r for r in rrs if r.result is True]
                    if held:
                        values[fact] = held[0].rule.then[fact]
                    elif any(r.result is None for r in rrs):
                        values[fact] = None
                    elif self.ruleset.facts[fact].type == "bool":
                        values[fact] = False
            elif stage.kind == "choose":
                by_family: dict[str, list[str]] = {}
                for rule in rules:
                    if results[rule.id].result is True:
                        by_family.setdefault(rule.family, []).append(rule.id)
                for family, ids in by_family.items():
                    won = self.winner(family, ids)
                    if won:
                        values.update(self.ruleset.rule(won).then)
        derived = {k: v for k, v in values.items() if self.ruleset.facts[k].derived and v is not None}
        return results, derived

    # -- one product -----------------------------------------------------------------------------
    def decide(self, product: str, facts: dict[str, Any], as_of: dt.date | When, description: str = "",
               row: int | None = None) -> Decision:
        when = self.when_for(facts, as_of)
        engine = self.session(when).decide(facts)
        results, derived = self.explain(facts, when)
        self._agree(product, engine, results, derived)
        return self._record(product, facts, when, description, row, engine, results, derived)

    def _agree(self, product: str, engine: EngineResult, results: dict[str, RuleResult],
               derived: dict) -> None:
        for stage, fired in engine.fired.items():
            held = {rid for rid, r in results.items() if r.rule.stage == stage and r.result is True}
            if set(fired) != held:  # includes a rule of another kind firing: the explainer did not hold it
                raise EngineError(
                    f"product {product}: the engine and the explainer disagree in stage '{stage}': "
                    f"engine fired {sorted(fired)}, explainer holds {sorted(held)}. This is a bug in "
                    "ampc; please report it with this product's facts.")
        engine_derived = {k: v for k, v in engine.derived.items() if v is not False}
        explained = {k: v for k, v in derived.items() if v is not False}
        if engine_derived != explained:
            raise EngineError(f"product {product}: derived facts differ: engine {engine_derived}, "
                              f"explainer {explained}. This is a bug in ampc.")

    def _considered(self, rr: RuleResult, reached: bool = True) -> Considered:
        rule = rr.rule
        if not reached:  # an earlier stage settled the product; this rule did not take part
            return Considered(rule.id, rule.stage, rule.line, rule.label, "not reached", rule.citation(),
                              rule.text, rule.where, (), (), (), rule.period())
        failed = rr.decisive if rr.result is False else ()
        return Considered(rule.id, rule.stage, rule.line, rule.label, RESULT_WORD[rr.result],
                          rule.citation(), rule.text, rule.where, rr.checks, failed, rr.unknown,
                          rule.period(), rr.decisive if rr.result is True else ())

    def _record(self, product: str, facts: dict, as_of: When, description: str, row: int | None,
                engine: EngineResult, results: dict[str, RuleResult], derived: dict) -> Decision:
        rs = self.ruleset
        base = dict(product=product, as_of=as_of.sale.isoformat(), dates=as_of.to_dict(), ruleset=rs.ident(),
                    description=description, row=row,
                    facts={k: show(v, rs.facts[k]) for k, v in facts.items() if v is not None},
                    chain=tuple(rid for s in engine.stages_run for rid in engine.fired[s]),
                    derived={k: show(v, rs.facts[k]) for k, v in sorted(derived.items())})
        family = facts.get("component")
        if family is None:
            return Decision(**base, outcome=UNDETERMINED, line=None, missing=("component",),
                            reason="the kind of component is not given")
        of_family = [r for r in results.values() if r.rule.applies_to(family)]
        outcome = _Outcome(self, family, as_of, of_family)
        fields = outcome.decide()
        reached = outcome.reached
        near = {r.rule.id for r in relevant([r for r in of_family if rs.stage_kind(r.rule.stage) == "choose"])}
        considered = tuple(replace(self._considered(r, r.rule.stage in reached),
                                   relevant=rs.stage_kind(r.rule.stage) != "choose" or r.rule.id in near)
                           for r in of_family)
        base["chain"] = tuple(rid for rid in base["chain"] if rs.rule(rid).stage in reached)
        return Decision(**base, **fields, considered=considered,
                        flags=tuple(outcome.flags) + tuple(self._review_flags(of_family, reached,
                                                                              fields.get("decided_by", ()))))

    def _review_flags(self, of_family: list[RuleResult], reached: set[str],
                      decided_by: tuple[str, ...] = ()) -> list[Flag]:
        """A flag for every rule with an open reading that decided it, and for thresholds not stated."""
        rs = self.ruleset
        by_review: dict[str, list[RuleResult]] = {}
        for r in of_family:
            if r.rule.stage not in reached or not r.rule.review:
                continue
            if (r.result is True and "holds" in r.rule.review_when) or (r.result is False and (
                    rs.stage_kind(r.rule.stage) == "require"
                    or (r.rule.id in decided_by and "fails" in r.rule.review_when))):
                by_review.setdefault(r.rule.review, []).append(r)
        flags = [Flag("interpretation", "; ".join(f"{r.rule.id}: {r.rule.notes or review}" for r in rrs[:1])
                      + (f" (also {', '.join(r.rule.id for r in rrs[1:])})" if len(rrs) > 1 else ""),
                      review, tuple(r.rule.id for r in rrs)) for review, rrs in by_review.items()]
        seen: set[str] = set()
        for r in of_family:
            for check in r.checks:
                if r.rule.stage in reached and check.passed is None and check.param \
                        and check.expected.startswith("(no value stated") and check.param not in seen:
                    seen.add(check.param)
                    flags.append(Flag("not_stated", f"{r.rule.id}: {rs.params[check.param].label}: "
                                      f"{check.expected[1:-1]}; a decision that turns on it stays undetermined",
                                      r.rule.review or "the law states no value for this date", (r.rule.id,)))
        return flags


class _Outcome:
    """Walks the stages in order; the first stage that settles the product decides it."""

    def __init__(self, decider: Decider, family: str, when: When, of_family: list[RuleResult]):
        self.decider, self.family, self.when = decider, family, when
        self.rs = decider.ruleset
        self.by_stage = {s.name: [r for r in of_family if r.rule.stage == s.name] for s in self.rs.stages}
        self.flags: list[Flag] = []
        self.reached: set[str] = set()
        self.line: str | None = None

    def decide(self) -> dict:
        for stage in self.rs.stages:
            self.reached.add(stage.name)
            settled = getattr(self, stage.kind)(self.by_stage[stage.name])
            if settled is not None:
                return settled
        if self.line is None:
            return dict(outcome=REJECTED, line=None, reason="no Form 7207 line applies")
        label = self.rs.rule(self.decided_by[0]).label
        return dict(outcome=QUALIFIED, line=self.line, classified_line=self.line, decided_by=self.decided_by,
                    reason=f"{label}, Form 7207 Part II line {self.line}")

    def derive(self, rrs: list[RuleResult]) -> dict | None:
        if not rrs or any(r.result is True for r in rrs):
            return None
        pending = [r for r in rrs if r.result is None]
        if pending:
            return dict(outcome=UNDETERMINED, line=None, missing=_missing(pending), decided_by=_ids(pending),
                        reason=f"whether it is {_a(rrs[0].rule.label)} turns on facts not given")
        return dict(outcome=REJECTED, line=None, decided_by=_ids(rrs),
                    reason=f"not {_a(rrs[0].rule.label)}: " + _failed_words(rrs[0]))

    def choose(self, rrs: list[RuleResult]) -> dict | None:
        if not rrs:
            return dict(outcome=REJECTED, line=None,
                        reason=f"no rule for a {self.family} is in force for a sale on {self.when.sale}")
        held = [r for r in rrs if r.result is True]
        pending = [r for r in rrs if r.result is None]
        if not held:
            if pending:
                return dict(outcome=UNDETERMINED, line=None, missing=_missing(pending), decided_by=_ids(pending),
                            possible_lines=tuple(r.rule.line for r in pending),
                            reason="no line matches on the facts given; "
                            + ", ".join(f"{r.rule.line} {r.rule.label.lower()}" for r in pending)
                            + (" turns" if len(pending) == 1 else " turn") + " on facts not given")
            near = relevant(rrs)
            failures = dict.fromkeys(f"{r.rule.line} {_first_failure(r)}" for r in near)
            return dict(outcome=REJECTED, line=None, decided_by=_ids(near),
                        reason="no Form 7207 line: " + "; ".join(failures))
        won = self.decider.winner(self.family, [r.rule.id for r in held])
        order = self.rs.order_for(self.family)
        if won is None:
            self.flags.append(Flag("undeclared_overlap", "several definitions hold and no precedence orders them",
                                   "", _ids(held)))
            return dict(outcome=UNDETERMINED, line=None, possible_lines=tuple(r.rule.line for r in held),
                        decided_by=_ids(held), reason="several lines match and no declared precedence decides")
        winner = self.rs.rule(won)
        if len(held) > 1:
            others = [r.rule for r in held if r.rule.id != won]
            self.flags.append(Flag(
                "overlap", f"also meets {', '.join(f'{o.line} {o.label.lower()}' for o in others)}; "
                f"{winner.line} {winner.label.lower()} applies by the declared precedence "
                f"'{order.id if order else ''}': {order.reason if order else ''}",
                order.review if order else "", _ids(held)))
        before = [r for r in pending if self.decider.rank(self.family, r.rule.id) < self.decider.rank(self.family, won)]
        if before:
            return dict(outcome=UNDETERMINED, line=None, missing=_missing(before), decided_by=_ids(before),
                        possible_lines=tuple([r.rule.line for r in before] + [winner.line]),
                        reason=f"meets {winner.line} {winner.label.lower()}, but "
                        + ", ".join(f"{r.rule.line} {r.rule.label.lower()}" for r in before)
                        + " would take precedence and turns on facts not given")
        self.line = winner.line
        self.decided_by = (won,)
        return None

    def require(self, rrs: list[RuleResult]) -> dict | None:
        failed = [r for r in rrs if r.result is False]
        if failed:
            return dict(outcome=REJECTED, line=None, classified_line=self.line, decided_by=_ids(failed),
                        reason=f"meets line {self.line} but fails the rule '{failed[0].rule.label}': "
                        + _failed_words(failed[0]))
        pending = [r for r in rrs if r.result is None]
        if pending:
            missing = _missing(pending)
            why = " on facts not given" if missing else " on a threshold the law does not state for its date"
            return dict(outcome=UNDETERMINED, line=None, missing=missing, classified_line=self.line,
                        possible_lines=(self.line,) if self.line else (), decided_by=_ids(pending),
                        reason=f"meets line {self.line}; " + "; ".join(f"'{r.rule.label}'" for r in pending)
                        + (" turns" if len(pending) == 1 else " turn") + why)
        return None


def relevant(rrs: list[RuleResult]) -> list[RuleResult]:
    """The candidates that failed on their terms rather than on their kind: a rule states the
    condition that names its kind first (the inverter, the mineral, the component), so a candidate
    whose first condition holds is one this product could have met. All of them if none is."""
    def first(r: RuleResult):
        return next((c for c in r.checks if not c.derived), None)
    near = [r for r in rrs if (c := first(r)) is not None and c.passed is True]
    return near or list(rrs)


def _ids(results: list[RuleResult]) -> tuple[str, ...]:
    return tuple(r.rule.id for r in results)

def _a(label: str) -> str:
    word = label.lower()
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _missing(results: list[RuleResult]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for r in results for f in r.unknown))


def _first_failure(rr: RuleResult) -> str:
    """The first failed clause that is not about the product's kind, for a one-line summary."""
    specific = [c for c in rr.decisive if not c.derived] or list(rr.decisive)
    return specific[0].sentence() if specific else "fails"


def _failed_words(rr: RuleResult) -> str:
    return "; ".join(c.clause or c.sentence() for c in rr.decisive) or "a condition fails"

