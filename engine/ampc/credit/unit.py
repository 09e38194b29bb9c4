"""One unit's credit on its line, on a product's dates: what `ampc rules diff` compares between two
rule sets."""

from __future__ import annotations

from decimal import Decimal

from ampc.credit.compute import _Missing, _usd, after_phase_out, figure_base, phase_out_of, rate_of
from ampc.credit.model import USD, Base, PhaseOutShare, Rate, _Frozen
from ampc.io.catalog import Row
from ampc.records import record as R
from ampc.rules.model import RuleSet, When


class UnitCredit(_Frozen):
    """What one unit of a qualified product earns on its line: the rate and phase-out on its dates,
    and, where the catalog gives the base, the base of one unit and the credit in USD. Where the base
    comes from the sale (costs, a vessel's sales price, the turbine's capacity), `base_column` names it."""

    line: str
    encoded: bool = True  # False: no credit amount is encoded for the line
    rate: Rate | None = None
    phase_out: PhaseOutShare | None = None
    not_stated: R.NotStatedByLaw | None = None  # the rate or phase-out has no value on the date
    base: Base | None = None  # one unit's base, where the catalog gives it
    credit: R.Quantity | None = None  # USD per unit, after the phase-out, where the base is known
    base_column: str | None = None  # the sale's ledger column the base comes from, where it does

    @property
    def figure(self) -> Decimal | None:
        """The number compared between two rule sets: the credit per unit, else the rate after the
        phase-out; None where it cannot be figured."""
        if self.credit is not None:
            return self.credit.value
        if self.rate is None:
            return None
        share = Decimal(1) if self.phase_out is None else self.phase_out.percent / 100
        return self.rate.value.value * share


def unit_credit(ruleset: RuleSet, decision: R.Decision, product: Row, when: When) -> UnitCredit | None:
    """One unit's credit on the decision's line (None: the product does not qualify, or not yet)."""
    if decision.outcome != R.QUALIFIED or not decision.line:
        return None
    credit = ruleset.credits.get(decision.line)
    if credit is None:
        return UnitCredit(decision.line, encoded=False)
    rate = rate_of(ruleset, credit, when)
    phase = phase_out_of(ruleset, credit, when)
    if isinstance(rate, R.NotStatedByLaw) or isinstance(phase, R.NotStatedByLaw):
        missing = rate if isinstance(rate, R.NotStatedByLaw) else phase
        return UnitCredit(decision.line, rate=rate if isinstance(rate, Rate) else None, not_stated=missing)
    column = credit.base.get("column") or credit.base.get("units_times_column")
    if column:
        return UnitCredit(decision.line, rate=rate, phase_out=phase, base_column=column)
    try:
        base = figure_base(ruleset, credit, product, {}, Decimal(1), when)
    except _Missing:
        return UnitCredit(decision.line, rate=rate, phase_out=phase)
    money = after_phase_out(_usd(rate.value, base.amount), phase)
    return UnitCredit(decision.line, rate=rate, phase_out=phase, base=base, credit=R.quantity(money, USD))
