"""The outcome of a decision: the stages walked in order, the first that settles the product deciding
it (an identity not concluded, no class that wins, a requirement that fails or is open)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ampc.decide.explain import RuleResult
from ampc.records import record as R
from ampc.rules.model import When

if TYPE_CHECKING:
    from ampc.decide.decider import Decider


class Outcome:
    """Walks the stages in order; the first stage that settles the product decides it."""

    def __init__(self, decider: Decider, family: str, when: When):
        self.decider, self.family, self.when = decider, family, when
        self.rs = decider.ruleset
        self.flags: list[R.Flag] = []
        self.reached: set[str] = set()
        self.line: str | None = None
        self.decided_by: tuple[str, ...] = ()
        self.settled: dict | None = None

    def step(self, stage: Any, rrs: list[RuleResult]) -> bool:
        """The stage reached, with its rules' results for the product's kind: whether it settles the product."""
        self.reached.add(stage.name)
        self.settled = getattr(self, stage.kind)(rrs)
        return self.settled is not None

    def fields(self) -> dict:
        """The outcome's fields, once the stages are walked."""
        if self.settled is not None:
            return self.settled
        if self.line is None:
            return dict(outcome=R.REJECTED, reason=R.Reason("no_line_applies", family=self.family))
        return dict(outcome=R.QUALIFIED, line=self.line, classified_line=self.line, decided_by=self.decided_by,
                    reason=R.Reason("qualified", self.decided_by, self.family))

    def derive(self, rrs: list[RuleResult]) -> dict | None:
        if not rrs or any(r.result is True for r in rrs):
            return None
        pending = [r for r in rrs if r.result is None]
        if pending:
            return dict(outcome=R.UNDETERMINED, missing=_missing(pending), decided_by=_ids(pending),
                        reason=R.Reason("identity_undetermined", _ids(pending), self.family))
        return dict(outcome=R.REJECTED, decided_by=_ids(rrs), reason=R.Reason("not_identified", _ids(rrs), self.family))

    def choose(self, rrs: list[RuleResult]) -> dict | None:
        if not rrs:
            return dict(outcome=R.REJECTED, reason=R.Reason("no_rule_in_force", family=self.family))
        held = [r for r in rrs if r.result is True]
        pending = [r for r in rrs if r.result is None]
        if not held:
            if pending:
                return dict(outcome=R.UNDETERMINED, missing=_missing(pending), decided_by=_ids(pending),
                            possible_lines=_lines(r.rule for r in pending),
                            reason=R.Reason("line_undetermined", _ids(pending), self.family))
            near = relevant(rrs)
            return dict(outcome=R.REJECTED, decided_by=_ids(near), reason=R.Reason("no_line", _ids(near), self.family))
        won = self.decider.winner(self.family, [r.rule.id for r in held])
        order = self.rs.order_for(self.family)
        if won is None:
            self.flags.append(R.Flag("undeclared_overlap", _ids(held)))
            return dict(outcome=R.UNDETERMINED, possible_lines=_lines(r.rule for r in held),
                        decided_by=_ids(held), reason=R.Reason("no_precedence", _ids(held), self.family))
        winner = self.rs.rule(won)
        if len(held) > 1:
            self.flags.append(R.Flag("overlap", _ids(held), review=order.review if order else "",
                                     note=order.reason if order else "", precedence=order.id if order else None,
                                     winner=won))
        before = [r for r in pending if self.decider.rank(self.family, r.rule.id) < self.decider.rank(self.family, won)]
        if before:
            return dict(outcome=R.UNDETERMINED, missing=_missing(before), decided_by=_ids(before),
                        possible_lines=_lines([*(r.rule for r in before), winner]),
                        reason=R.Reason("precedence_pending", _ids(before), self.family, won))
        self.line = winner.line
        self.decided_by = (won,)
        return None

    def require(self, rrs: list[RuleResult]) -> dict | None:
        failed = [r for r in rrs if r.result is False]
        if failed:
            return dict(outcome=R.REJECTED, classified_line=self.line, decided_by=_ids(failed),
                        reason=R.Reason("requirement_fails", _ids(failed), self.family))
        pending = [r for r in rrs if r.result is None]
        if pending:
            missing = _missing(pending)
            kind = "requirement_undetermined" if missing else "requirement_not_stated"
            return dict(outcome=R.UNDETERMINED, missing=missing, classified_line=self.line,
                        possible_lines=(self.line,) if self.line else (), decided_by=_ids(pending),
                        reason=R.Reason(kind, _ids(pending), self.family))
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


def _lines(rules) -> tuple[str, ...]:
    """The lines the rules conclude, each once (two rules of one line, its two paths, name it once)."""
    return tuple(dict.fromkeys(rule.line for rule in rules))


def _missing(results: list[RuleResult]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for r in results for f in r.unknown))
