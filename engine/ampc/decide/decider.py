"""Run: each product through the engine and the explainer, which must agree; build its decision record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from ampc.decide.compile import EngineResult, Session
from ampc.decide.explain import Explainer, RuleResult
from ampc.decide.outcome import Outcome, relevant
from ampc.errors import EngineError
from ampc.records import record as R
from ampc.records.detail import as_bare, given_only, kept, one_unit, wordless
from ampc.rules.model import Rule, RuleSet, When, as_when

REUSE = 1024  # decisions kept for reuse by identical facts and dates (the oldest dropped first)
STATES = 4096  # dates whose rules in force are kept (the oldest dropped first)
RESULT_WORD = {True: "holds", False: "fails", None: "undetermined"}


class Decider:
    """Decides products against one rule set; keeps one engine session per kind of component."""

    def __init__(self, ruleset: RuleSet, reuse: bool = True, detail: str = "full"):
        self.ruleset = ruleset
        self.reuse = reuse  # False: every product decided afresh (no decision, no engine run reused)
        # "compact": each record is made compact as it is built (records.detail.compact's form), so
        # that what a compact record leaves out (the rules' words, the clauses that held) is never made
        self.detail = detail
        self.explainer = Explainer(ruleset)
        self._sessions: dict[object, Session] = {}
        self._states: dict[tuple, tuple[Rule, ...]] = {}
        self._of_kind: dict[str | None, tuple[Rule, ...]] = {}
        self._idents: dict[str, R.RuleSetId] = {}
        self._deciding: dict[tuple, str] = {}  # by era
        self._eras: dict[When, tuple[int, ...]] = {}  # dates -> their era (RuleSet.era)
        self._words: dict[tuple, tuple] = {}  # (rule, amendments applied) -> its period, citations, not reached
        self._made: dict[tuple, R.Decision] = {}  # facts and dates -> the decision made on them
        self._thresholds: dict[tuple, tuple] = {}  # (id of a threshold, unit) -> the threshold, typed
        self._derived = frozenset(name for name, fact in ruleset.facts.items() if fact.derived)

    def rank(self, family: str, rule_id: str) -> int:
        return self.ruleset.rank(family, rule_id)

    def winner(self, family: str, fired: list[str]) -> str | None:
        """The rule that decides among several that hold: precedence, else the only one, else none."""
        return self.ruleset.winner(family, fired)

    def session(self, kind: str | None) -> Session:
        """The compiled engine for a kind of component (the rules for it and for any kind, over every
        date), compiled when first needed; for None (the kind not given), the rules for any kind."""
        if kind not in self._sessions:
            self._sessions[kind] = Session(self.ruleset, kind, self.reuse)
        return self._sessions[kind]

    def engine(self, facts: dict[str, Any], when: When | dt.date) -> EngineResult:
        """What the engine concludes on the product's facts and dates (in the session of its kind)."""
        return self.session(facts.get(self.ruleset.role("kind"))).decide(facts, when)

    def _in_force(self, when: When, kind: str | None) -> tuple[Rule, ...]:
        """The rules for the kind in force on the dates (the same on every date of their era)."""
        key = (self._era(when), kind)
        rules = self._states.get(key)
        if rules is None:
            if len(self._states) >= STATES:
                self._states.pop(next(iter(self._states)))
            if kind not in self._of_kind:
                self._of_kind[kind] = tuple(r for r in self.ruleset.rules if r.applies_to(kind))
            rules = self._states[key] = tuple(r for r in self._of_kind[kind] if r.in_force(when))
        return rules

    def _era(self, when: When) -> tuple[int, ...]:
        era = self._eras.get(when)
        if era is None:
            if len(self._eras) >= STATES:
                self._eras.clear()
            era = self._eras[when] = self.ruleset.era(when)
        return era

    def when_for(self, facts: dict[str, Any], as_of: dt.date | When) -> When:
        """The product's dates: the sale at as_of, its production date if given, and the first day
        of the taxpayer's taxable year if given, else January 1 of the year of sale (a calendar year)."""
        if isinstance(as_of, When):
            return as_of
        roles = self.ruleset.roles
        production = facts.get(roles["production_date"]) or as_of
        taxable = facts.get(roles["taxable_year_begins"]) or dt.date(as_of.year, 1, 1)
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
    def explain(self, facts: dict[str, Any], as_of: When | dt.date,
                outcome: Outcome | None = None) -> tuple[dict[str, RuleResult], dict]:
        """Every rule in force that applies to the product's kind, clause by clause. Rules of other
        kinds cannot hold (each names its kind); the agreement check verifies the engine fired none.
        With `outcome`, the stages are walked as it reaches them: a stage that settles the product
        ends the walk, and the later stages' rules are not evaluated (their verdicts are not_reached)."""
        as_of = as_when(as_of)
        values = dict(facts)
        family = facts.get(self.ruleset.role("kind"))
        results: dict[str, RuleResult] = {}
        for stage in self.ruleset.stages:
            rules = [r for r in self._in_force(as_of, family) if r.stage == stage.name]
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
                for of, ids in by_family.items():
                    won = self.winner(of, ids)
                    if won:
                        values.update(self.ruleset.rule(won).then)
            if outcome is not None and outcome.step(stage, [results[r.id] for r in rules]):
                break
        derived = {k: v for k, v in values.items() if k in self._derived and v is not None}
        return results, derived

    def reached(self, facts: dict[str, Any], when: When, results: dict[str, RuleResult]) -> set[str]:
        """The stages the product's decision reaches (a stage that settles it is the last), walked
        over the results of `explain` on every stage."""
        family = facts.get(self.ruleset.role("kind"))
        if family is None:
            return {s.name for s in self.ruleset.stages}
        outcome = Outcome(self, family, when)
        for stage in self.ruleset.stages:
            if outcome.step(stage, [r for r in results.values() if r.rule.stage == stage.name
                                    and r.rule.applies_to(family)]):
                break
        return outcome.reached

    # -- one product -----------------------------------------------------------------------------
    def decide(self, product: str, facts: dict[str, Any], as_of: dt.date | When, description: str = "",
               source: R.Source | None = None, inputs: R.Inputs | None = None,
               sale_from: str = "option") -> R.Decision:
        """The decision on one product. Products with the same facts on the same dates get the same
        decision: it is made (engine and explainer, which must agree) once and reused, with only the
        product's own id, description, source and inputs put in."""
        when = self.when_for(facts, as_of)
        key = (tuple(sorted((k, v) for k, v in facts.items() if v is not None)), when) if self.reuse else None
        try:
            hit = self._made.get(key) if key is not None else None
        except TypeError:  # a value that cannot be a key (none of the vocabulary's types): no reuse
            key, hit = None, None
        if hit is None:
            engine = self.engine(facts, when)
            family = facts.get(self.ruleset.role("kind"))
            outcome = Outcome(self, family, when) if family is not None else None
            results, derived = self.explain(facts, when, outcome)
            self._agree(product, engine, results, derived, outcome.reached if outcome else None)
            hit = self._record("", facts, when, "", engine, results, derived, R.Source(), R.Inputs(), "option",
                               outcome)
            if key is not None:
                if len(self._made) >= REUSE:
                    self._made.pop(next(iter(self._made)))  # the oldest: memory stays bounded
                self._made[key] = hit
        inputs = inputs or R.Inputs()
        extra = {}
        if hit.detail == "compact":
            inputs = given_only(inputs)
            if sale_from == "ledger":  # the sale's dates the credit gave are not in the inputs: its facts are kept
                extra["facts"] = self.typed_facts(facts)
        return msgspec.structs.replace(hit, product=product, description=description, source=source or R.Source(),
                                       inputs=inputs, dates=msgspec.structs.replace(hit.dates, sale_from=sale_from),
                                       **extra)

    def _agree(self, product: str, engine: EngineResult, results: dict[str, RuleResult],
               derived: dict, reached: set[str] | None = None) -> None:
        """The engine and the explainer agree on every stage the product reached (None: every stage):
        the engine ran it, and fired the rules the explainer holds; and on the facts derived."""
        for stage, fired in engine.fired.items():
            if reached is not None and stage not in reached:
                continue
            if stage not in engine.stages_run:
                raise EngineError(
                    f"product {product}: the engine stopped before stage '{stage}', which the explainer "
                    f"reached (stages run: {', '.join(engine.stages_run)}). This is a bug in ampc; please "
                    "report it with this product's facts.")
            held = {rid for rid, r in results.items() if r.rule.stage == stage and r.result is True}
            if set(fired) != held:  # includes a rule of another kind firing: the explainer did not hold it
                raise EngineError(
                    f"product {product}: the engine and the explainer disagree in stage '{stage}': "
                    f"engine fired {', '.join(sorted(fired)) or 'none'}, explainer holds "
                    f"{', '.join(sorted(held)) or 'none'}. This is a bug in ampc; please report it with "
                    "this product's facts.")
        engine_derived = {k: v for k, v in engine.derived.items() if v is not False}
        explained = {k: v for k, v in derived.items() if v is not False}
        if engine_derived != explained:
            def listed(d: dict) -> str:
                return ", ".join(f"{k} = {_plain(v)}" for k, v in sorted(d.items())) or "none"
            raise EngineError(f"product {product}: derived facts differ: engine {listed(engine_derived)}; "
                              f"explainer {listed(explained)}. This is a bug in ampc.")

    def typed_facts(self, facts: dict[str, Any]) -> dict[str, R.Value]:
        return R.typed_facts(facts, self.ruleset.facts)

    def _clauses(self, rr: RuleResult, actuals: dict[str, tuple]) -> tuple[R.Clause, ...]:
        """The rule's clauses as the record holds them. A threshold is typed once for as long as the
        explainer hands out the same value, and a fact's actual value once a product (in `actuals`,
        by fact: the value and its typed form). A compact record's are those `detail.compact` keeps
        (failed or unknown, or an alternative that made the rule hold), in its form."""
        decisive = {id(c) for c in rr.decisive}
        vocab, thresholds = self.ruleset.facts, self._thresholds
        compact = self.detail == "compact"
        out = []
        for c in rr.checks:
            cmp, expected, actual = c.cmp, c.expected, c.actual
            if compact and not kept(c.passed is True, id(c) in decisive, c.path):
                continue
            unit = vocab[cmp.fact].unit
            held = thresholds.get((id(expected), unit))
            if held is None or held[0] is not expected:  # kept with its value, so its id is not reused
                if len(thresholds) >= STATES:
                    thresholds.clear()
                value = expected if isinstance(expected, R.NotStatedByLaw) else R.typed(expected, unit)
                held = thresholds[id(expected), unit] = (expected, value, as_bare(value))
            given = actuals.get(cmp.fact)
            if given is None or given[0] is not actual:
                value = R.typed(actual, unit)
                given = actuals[cmp.fact] = (actual, value, as_bare(value) if compact else None)
            if compact:  # the threshold and actual bare, with their one unit (typed if they are in two)
                unit = one_unit(held[2][1], given[2][1])
                if unit is None:
                    out.append(R.Clause(threshold=held[1], actual=given[1], verdict=VERDICT[c.passed], path=c.path,
                                        decisive=id(c) in decisive))
                else:
                    out.append(R.Clause(threshold=held[2][0], actual=given[2][0], unit=unit,
                                        verdict=VERDICT[c.passed], path=c.path, decisive=id(c) in decisive))
                continue
            out.append(R.Clause(
                rule=rr.rule.id, fact=cmp.fact, op=cmp.op, threshold=held[1], actual=given[1],
                verdict=VERDICT[c.passed], param=cmp.param or None, param_from=c.since, clause=cmp.clause,
                path=c.path, derived=c.derived, decisive=id(c) in decisive))
        return tuple(out)

    def _considered(self, rr: RuleResult, reached: bool, relevant: bool, when: When,
                    actuals: dict[str, tuple]) -> R.Considered:
        """The rule as considered. Its words, period and citations (those for the dates' taxable
        year) are made once for the rule and the amendments of its citations that apply on those
        dates, and so is its entry where it was not reached."""
        rule = rr.rule
        key = (rule.id, tuple(a.applies(when) for a in rule.cite_as_amended))
        if key not in self._words:
            if len(self._words) >= STATES:
                self._words.clear()
            in_force = R.InForce(rule.keyed_on, rule.in_force_from, rule.in_force_to)
            cite = {k: str(v) for k, v in rule.cite_for(when).items()}
            self._words[key] = in_force, cite, {
                near: R.Considered(rule=rule.id, stage=rule.stage, line=rule.line, result="not_reached",
                                   label=rule.label, cite=cite, text=rule.text, source=rule.where,
                                   in_force=in_force, relevant=near) for near in (False, True)}
        in_force, cite, not_reached = self._words[key]
        if self.detail == "compact":  # the rule's words are the rule set's
            if not reached:
                return R.Considered(rule=rule.id, result="not_reached", relevant=relevant)
            return R.Considered(rule=rule.id, result=RESULT_WORD[rr.result], clauses=self._clauses(rr, actuals),
                                missing=rr.unknown, relevant=relevant)
        if not reached:  # an earlier stage settled the product; this rule did not take part
            return not_reached[relevant]
        return R.Considered(rule=rule.id, stage=rule.stage, line=rule.line, result=RESULT_WORD[rr.result],
                            label=rule.label, cite=cite, text=rule.text, source=rule.where, in_force=in_force,
                            clauses=self._clauses(rr, actuals), missing=rr.unknown, relevant=relevant)

    def _record(self, product: str, facts: dict, as_of: When, description: str, engine: EngineResult,
                results: dict[str, RuleResult], derived: dict, source: R.Source, inputs: R.Inputs,
                sale_from: str, outcome: Outcome | None) -> R.Decision:
        """The decision record; `outcome` is the stages' walk (None only when the kind is not given)."""
        rs = self.ruleset
        compact = self.detail == "compact"  # its facts are its inputs' reading, which the rule set restores
        base = dict(product=product, description=description, source=source, inputs=inputs,
                    dates=R.Dates(as_of.sale, as_of.production, as_of.taxable_year, sale_from),
                    ruleset=self.ident_for(as_of), software=R.software(),
                    facts={} if compact else self.typed_facts(facts), derived=self.typed_facts(derived),
                    detail=self.detail)
        kind = rs.role("kind")
        family = facts.get(kind)
        if family is None:
            return R.Decision(**base, outcome=R.UNDETERMINED, missing=(kind,),
                              reason=R.Reason("kind_not_given"))
        fields = outcome.fields()
        reached = outcome.reached
        in_force = self._in_force(as_of, family)  # a rule of a stage not reached: no verdict, no clauses
        of_family = [results.get(r.id) or RuleResult(r, None, ()) for s in rs.stages for r in in_force
                     if r.stage == s.name]
        near = {r.rule.id for r in relevant([r for r in of_family if rs.stage_kind(r.rule.stage) == "choose"])}
        actuals: dict[str, tuple] = {}  # each fact's actual value, typed once for the product
        considered = tuple(self._considered(r, r.rule.stage in reached,
                                            rs.stage_kind(r.rule.stage) != "choose" or r.rule.id in near, as_of,
                                            actuals)
                           for r in of_family)
        chain = tuple(rid for s in engine.stages_run if s in reached for rid in engine.fired[s])
        flags = tuple(outcome.flags) + tuple(self._review_flags(of_family, reached, fields.get("decided_by", ()),
                                                                facts, as_of))
        if compact:
            flags = wordless(flags)
        return R.Decision(**base, **fields, chain=chain, considered=considered, flags=flags)

    @property
    def ident(self) -> R.RuleSetId:
        """The rule set as loaded, without a decision's edition (an error record, a worksheet)."""
        return self.ident_for(None)

    def ident_for(self, when: When | None) -> R.RuleSetId:
        """The rule set, naming the edition of the law that decides a product on these dates."""
        rs = self.ruleset
        edition = ""
        if when is not None:  # the same on every date of the era
            era = self._era(when)
            if era not in self._deciding:
                if len(self._deciding) >= STATES:
                    self._deciding.pop(next(iter(self._deciding)))
                self._deciding[era] = rs.edition_deciding(when)
            edition = self._deciding[era]
        if edition not in self._idents:
            self._idents[edition] = R.RuleSetId(rs.name, rs.sha256, rs.known_on, edition)
        return self._idents[edition]

    def _review_flags(self, of_family: list[RuleResult], reached: set[str], decided_by: tuple[str, ...],
                      facts: dict, when: When) -> list[R.Flag]:
        """A flag for every rule with an open reading that decided it (on facts that meet its
        review_if, where it has one), and for thresholds not stated."""
        rs = self.ruleset
        by_review: dict[str, list[RuleResult]] = {}
        for r in of_family:
            if r.rule.stage not in reached or not r.rule.review:
                continue
            if r.rule.review_if is not None and self.explainer.test(r.rule, r.rule.review_if, facts, when) is not True:
                continue
            if (r.result is True and "holds" in r.rule.review_when) or (r.result is False and (
                    rs.stage_kind(r.rule.stage) == "require"
                    or (r.rule.id in decided_by and "fails" in r.rule.review_when))):
                by_review.setdefault(r.rule.review, []).append(r)
        flags = [R.Flag("interpretation", tuple(r.rule.id for r in rrs), review=review, note=rrs[0].rule.notes)
                 for review, rrs in by_review.items()]
        seen: set[str] = set()
        for r in of_family:
            for check in r.checks:
                if r.rule.stage in reached and isinstance(check.expected, R.NotStatedByLaw) \
                        and check.cmp.param not in seen:
                    seen.add(check.cmp.param)
                    kind = "not_stated" if check.passed is None else "not_stated_settled"
                    flags.append(R.Flag(kind, (r.rule.id,), review=r.rule.review,
                                        param=check.cmp.param, date=check.expected.date))
        return flags


VERDICT = {True: "true", False: "false", None: "unknown"}


def _plain(value: Any) -> str:
    """A derived fact's value in an error message (engine values are str, bool or Decimal)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
