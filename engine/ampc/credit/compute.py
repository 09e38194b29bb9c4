"""The credit: a year's sales, decided product by product, summed into Form 7207 lines, exactly.

Column (d) of each line adds up the base of every qualifying sale (units x capacity, area or mass
per unit; units x the turbine's rated capacity; the vessel's sales price; the costs incurred).
Column (e) is column (c) x column (d), times the phase-out percentage of the sale's year. Money
is exact decimal arithmetic; it is rounded only for display: cents half up, and whole dollars half
up on each line and on the total of the exact amounts (not the sum of rounded lines).

Everything here is typed data: an amount holds the parts of its arithmetic (units, the per-unit
base, the cap where it applies, the rate and the phase-out with the parameters and dates they were
read at), a rejected sale holds its decision record. Nothing here writes a sentence or formats a
number: engine/ampc/credit/worksheet.py renders the worksheet; its JSON form is in sheet.py. Just
over 400 lines: the cap on a counted capacity (from a fact or a ratio) sits beside the base it caps.

The ledger is read a sale at a time (ledger.py) and may be of any length: each line keeps running
sums of its exact amounts, its sales go to a list kept in bounded memory (spool.py), and a product
is decided once for all the sales that repeat it, its dates and its facts.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from functools import lru_cache
from typing import Any

import msgspec

from ampc.credit.filer import Facility, attach, fed_facts
from ampc.credit.ledger import check_sale, problem_of
from ampc.credit.ledger import load as load  # the catalog and the ledger, as callers read them from here
from ampc.credit.model import (
    CLAIMED_LINE,
    FACILITY,
    PRODUCT,
    PRODUCTION_DATE,
    SALE_DATE,
    SALE_FACTS,
    UNITS,
    USD,
    Amount,
    Base,
    Cap,
    Claimed,
    CreditRun,
    LineTotal,
    Pending,
    PhaseOutShare,
    Rate,
    Rejected,
    Stake,
    TaxYear,
    Worksheet,
)
from ampc.credit.spool import Detail, Spool, trimmed
from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_row
from ampc.io.catalog import Row
from ampc.records import record as R
from ampc.rules.formula import PLACES
from ampc.rules.model import CreditLine, RuleSet, When
from ampc.rules.units import registry

# ---------------------------------------------------------------------------------------------------
# the law's numbers for a line, on the dates of a sale

class _Missing(Exception):
    """A sale whose amount cannot be figured: what is missing and the fix."""

    def __init__(self, message: str, fix: str, key: str = ""):
        super().__init__(message)
        self.message, self.fix, self.key = message, fix, key


def _gap(line: str, silent: R.NotStatedByLaw) -> _Missing:
    return _Missing(f"line {line}: the parameter '{silent.param}' has no value on {silent.date.isoformat()}",
                    "a gap in the rule set: report it")


def rate_of(ruleset: RuleSet, credit: CreditLine, when: When) -> Rate | R.NotStatedByLaw:
    """Column (c) of the line on the sale's dates, or the law's silence on that date."""
    param = ruleset.params[credit.rate]
    entry = param.entry(when)
    if entry is None or entry.value is None:
        return R.NotStatedByLaw(param.id, when.date_for(param.keyed_on))
    return Rate(param.id, R.quantity(entry.value, param.unit), entry.start)


def phase_out_of(ruleset: RuleSet, credit: CreditLine, when: When) -> PhaseOutShare | R.NotStatedByLaw | None:
    """The phase-out percentage the sale's dates fall in, if a schedule applies to them."""
    schedule = next((p for p in credit.phase_out if p.applies(when)), None)
    if schedule is None:
        return None
    param = ruleset.params[schedule.param]
    entry = param.entry(when)
    day = when.date_for(param.keyed_on)
    if entry is None or entry.value is None:
        return R.NotStatedByLaw(param.id, day)
    return PhaseOutShare(param.id, R.plain_decimal(entry.value), param.keyed_on, day, entry.start)  # type: ignore[arg-type]


def _usd(rate: R.Quantity, base: R.Quantity) -> Decimal:
    reg = registry()
    return Decimal((reg.Quantity(rate.value, rate.unit) * reg.Quantity(base.value, base.unit)).to(USD).magnitude)


def review_of(ruleset: RuleSet, credit: CreditLine, phase: PhaseOutShare | None, when: When) -> str:
    """The open reading an amount turns on: the line's `review:`, where the schedule the reading sets
    aside (`review_against:`) would give a smaller share than the one applied; every amount of the
    line where the line names no such schedule."""
    if not credit.review:
        return ""
    if not credit.review_against:
        return credit.review
    other = ruleset.params[credit.review_against].at(when)
    applied = phase.percent if phase is not None else Decimal(100)
    return credit.review if other is not None and other < applied else ""


def after_phase_out(money: Decimal, phase: PhaseOutShare | None) -> Decimal:
    """Column (c) x column (d), times the phase-out percentage where one applies; exact."""
    return money if phase is None else money * phase.percent / 100


def _ledger_value(ruleset: RuleSet, credit: CreditLine, sale: dict[str, Any], column: str) -> R.Quantity:
    """A base the sale itself gives (costs, sales price, the turbine's capacity), or why it is missing."""
    value = sale.get(column)
    if value is None:
        raise _Missing(f"line {credit.line} needs the {ruleset.ledger[column].label.lower()} "
                       f"('{column}') of the sale", f"add a '{column}' column with a value for this row", column)
    return R.quantity(value, ruleset.ledger[column].unit)


def base_unit(ruleset: RuleSet, credit: CreditLine) -> str:
    """The unit column (d) is stated in: the one the line's rate is per (square meters for the
    wafers' $12 per m², kilowatt hours for battery cells), or dollars for a rate in percent."""
    return _base_unit(ruleset.params[credit.rate].unit)


@lru_cache(maxsize=256)
def _base_unit(unit: str) -> str:  # a function of the rate's unit alone: figured once per unit, not per sale
    reg = registry()
    per = reg.Unit(USD) / reg.Unit(unit.replace("%", "percent"))
    if per.dimensionality == reg.Unit(USD).dimensionality:  # a percentage of an amount of money
        return USD
    return format(per, "~").replace(" ", "")


def _in(quantity: R.Quantity, unit: str) -> R.Quantity:
    if quantity.unit == unit:
        return quantity
    reg = registry()
    value = reg.Quantity(quantity.value, quantity.unit).to(unit).magnitude
    return R.quantity(Decimal(value), unit)


def figure_base(ruleset: RuleSet, credit: CreditLine, product: Row, sale: dict[str, Any],
                units: Decimal | None, when: When) -> Base:
    """The column (d) amount of a sale of `units` of the product, in the unit of the line's rate
    (raises _Missing with the fix)."""
    base = _figure_base(ruleset, credit, product, sale, units, when)
    return msgspec.structs.replace(base, amount=_in(base.amount, base_unit(ruleset, credit)))


def _figure_base(ruleset: RuleSet, credit: CreditLine, product: Row, sale: dict[str, Any],
                 units: Decimal | None, when: When) -> Base:
    spec = credit.base
    if "column" in spec:
        return Base("column", spec["column"], _ledger_value(ruleset, credit, sale, spec["column"]))
    if units is None:
        column = ruleset.column(UNITS)
        raise _Missing("the number of units sold is not given", f"add a '{column}' column", column)
    if "units_times_column" in spec:
        per = _ledger_value(ruleset, credit, sale, spec["units_times_column"])
        return Base("units_times_column", spec["units_times_column"], R.quantity(units * per.value, per.unit),
                    units, per)
    fact_name = spec["units_times_fact"]
    fact = ruleset.facts[fact_name]
    value = product.facts.get(fact_name)
    if value is None:
        raise _Missing(f"line {credit.line} multiplies the units sold by the product's {fact.label.lower()} "
                       f"('{fact_name}'), which the catalog does not give for {product.product}",
                       f"add '{fact_name}' to the product in the catalog", fact_name)
    rated = R.quantity(value, fact.unit)
    cap = _cap(ruleset, credit, product, rated, fact_name, when) if spec.get("capped_by") else None
    per = cap.counted if cap else rated
    return Base("units_times_fact", fact_name, R.quantity(units * per.value, per.unit), units, per, cap)


def _cap(ruleset: RuleSet, credit: CreditLine, product: Row, rated: R.Quantity, fact_name: str,
         when: When) -> Cap | None:
    """The cap where it binds: `capped_by`'s ratio parameter (the limit) times its fact (the maximum
    discharge amount); where the catalog gives not that fact but `ratio_fact` (the rated value over
    it: the capacity-to-power ratio, 45X(b)(4)(B)), the rated value times the limit over that ratio,
    which is the same cap, for the fact is the rated value over the ratio."""
    capped = credit.base["capped_by"]
    other_name = capped["fact"]
    other_fact = ruleset.facts[other_name]
    other = product.facts.get(other_name)
    by_ratio = capped.get("ratio_fact") if other is None else None
    if by_ratio is not None:
        other_name, other_fact, other = by_ratio, ruleset.facts[by_ratio], product.facts.get(by_ratio)
    if other is None:
        named = [capped["fact"], *([by_ratio] if by_ratio else [])]
        words = " or the ".join(f"{ruleset.facts[n].label.lower()} ('{n}')" for n in named)
        keys = " or ".join(f"'{n}'" for n in named)
        raise _Missing(f"line {credit.line}: the capacity counted is capped by the {words}, which is not given",
                       f"add {keys} to the product in the catalog", named[0])
    param = ruleset.params[capped["ratio"]["param"]]
    entry = param.entry(when)
    if entry is None or entry.value is None:
        raise _gap(credit.line, R.NotStatedByLaw(param.id, when.date_for(param.keyed_on)))
    ratio = R.quantity(entry.value, param.unit)
    reg = registry()
    if by_ratio is not None:
        limit = reg.Quantity(ratio.value, ratio.unit).to(other_fact.unit).magnitude
        if other <= limit:
            return None
        with localcontext() as ctx:
            ctx.prec = 60
            counted = (rated.value * Decimal(limit) / other).quantize(PLACES, rounding=ROUND_HALF_EVEN)
    else:
        counted = Decimal((reg.Quantity(other, other_fact.unit) * reg.Quantity(ratio.value, ratio.unit))
                          .to(rated.unit).magnitude)
        if rated.value <= counted:
            return None
    cite = next((str(r["title"]) for r in param.references if str(r.get("title", "")).startswith("IRC")), "")
    return Cap(fact_name, rated, R.quantity(counted, rated.unit), param.id, ratio, entry.start, other_name,
               R.quantity(other, other_fact.unit), cite, by_ratio is not None)


# ---------------------------------------------------------------------------------------------------
# the ledger, sale by sale (read by ampc.credit.ledger)

DECISIONS = 65_536  # decisions kept for the sales that repeat a product, its dates and facts


class Calculator:
    def __init__(self, ruleset: RuleSet, decider: Decider, as_of: dt.date | None = None,
                 spool: Spool | None = None):
        self.ruleset = ruleset
        self.decider = decider
        self.as_of = as_of  # read the law as of this date instead of each sale's date
        self.spool = spool or Spool()  # where the run's per-sale detail goes
        self._records: OrderedDict[tuple, R.Record] = OrderedDict()
        self._trimming = False  # the run has spilled: decisions are kept as they are written

    def when(self, product: Row, sale: Row, year: TaxYear | None = None) -> When:
        """The sale's dates: sold on its sale date (or --as-of), produced on its production date if
        it gives one (else the catalog's), in the taxable year the run states (else the one the
        catalog gives, else the calendar year)."""
        facts = dict(product.facts)
        if sale.roles.get(PRODUCTION_DATE):
            facts[self.ruleset.role(PRODUCTION_DATE)] = sale.roles[PRODUCTION_DATE]
        if year is not None:
            facts[self.ruleset.role("taxable_year_begins")] = year.start
        return self.decider.when_for(facts, self.as_of or sale.roles[SALE_DATE])

    def record(self, product: Row, sale: Row, when: When, fed: dict[str, Any] | None = None) -> R.Record:
        """The product's decision on the sale's dates, through the one pipeline: once per product,
        dates and facts while it is kept (DECISIONS of them, the least recently used dropped first);
        `fed`: the facts the facility's Part I states for the product (filer.fed_facts). Once the
        run's detail spills to disk, a decision is kept as it is written there (spool.trimmed)."""
        facts = {self.ruleset.role(k): sale.roles[k] for k in SALE_FACTS if sale.roles.get(k) is not None}
        facts.update(fed or {})
        key = (product.product, when, tuple(sorted(facts.items())))
        record = self._records.get(key)
        if record is not None:
            self._records.move_to_end(key)
            return record
        if self.spool.spilled and not self._trimming:
            self._trimming = True
            for k in list(self._records):
                self.spool.forget(self._records[k])
                self._records[k] = trimmed(self._records[k])
        record = decide_row(product, self.decider, when=when, facts=facts)
        self._records[key] = trimmed(record) if self._trimming else record
        if len(self._records) > DECISIONS:
            self.spool.forget(self._records.popitem(last=False)[1])
        return self._records[key]

    def amount(self, product: Row, sale: Row, decision: R.Decision, when: When) -> Amount:
        line = decision.line or ""
        credit = self.ruleset.credits.get(line)
        if credit is None:
            raise _Missing(f"no credit amount is encoded for line {line}", "add it to rules/credit/amounts.yaml")
        column = self.ruleset.column(PRODUCTION_DATE)
        if credit.keyed_on == "production" and not (sale.roles.get(PRODUCTION_DATE) or
                                                    product.facts.get(self.ruleset.role(PRODUCTION_DATE))):
            raise _Missing(f"line {line} is figured as of the production date, which this sale does not give",
                           f"add a {column} column", column)
        base = figure_base(self.ruleset, credit, product, sale.facts, sale.roles.get(UNITS), when)
        rate = rate_of(self.ruleset, credit, when)
        if isinstance(rate, R.NotStatedByLaw):
            raise _gap(line, rate)
        phase = phase_out_of(self.ruleset, credit, when)
        if isinstance(phase, R.NotStatedByLaw):
            raise _gap(line, phase)
        before = _usd(rate.value, base.amount)
        exact = after_phase_out(before, phase)
        booked = sale.roles.get(CLAIMED_LINE)
        claimed = Claimed(booked, line) if booked and booked.lower() != line.lower() else None
        return Amount(sale, decision, line, base, rate, before, phase, exact, claimed,
                      review_of(self.ruleset, credit, phase, when))

    def at_stake(self, product: Row, sale: Row, decision: R.Decision, when: When) -> tuple[Stake, ...]:
        """The base and credit an undetermined sale would carry on each line it may meet."""
        out = []
        for line in dict.fromkeys(decision.possible_lines or ((decision.classified_line,) if decision.classified_line
                                                              else ())):
            credit = self.ruleset.credits.get(line)
            if credit is None:
                out.append(Stake(line))
                continue
            try:
                base = figure_base(self.ruleset, credit, product, sale.facts, sale.roles.get(UNITS), when)
            except _Missing:
                out.append(Stake(line))
                continue
            rate = rate_of(self.ruleset, credit, when)
            phase = phase_out_of(self.ruleset, credit, when)
            if isinstance(rate, R.NotStatedByLaw) or isinstance(phase, R.NotStatedByLaw):
                out.append(Stake(line, base.amount))
                continue
            out.append(Stake(line, base.amount, R.plain_decimal(after_phase_out(_usd(rate.value, base.amount), phase))))
        return tuple(out)

    def rejected_base(self, product: Row, sale: Row, decision: R.Decision, when: When) -> R.Quantity | None:
        """The base the rejected sale would have carried on the line its product meets, if any."""
        credit = self.ruleset.credits.get(decision.classified_line or "")
        if credit is None:
            return None
        try:
            return figure_base(self.ruleset, credit, product, sale.facts, sale.roles.get(UNITS), when).amount
        except _Missing:
            return None


# Digits the arithmetic keeps: every amount the declared ranges allow, exactly (units up to 10**12
# times a per-unit base of up to 11 whole digits and 18 decimal places, times a rate and a
# phase-out percentage), and sums of any number of them (definitions/ledger.yaml, facts/).
PRECISION = 80


def compute(catalog: list[Row], ledger: Iterable[Row], ruleset: RuleSet, tax_year: TaxYear | int | None = None,
            as_of: dt.date | None = None, year_end: int | None = None,
            facilities: dict[str, Facility] | None = None) -> CreditRun:
    """The worksheets of the ledger: one per facility and taxable year. `tax_year` counts only the
    sales of that year (a year number is the calendar year, or with `year_end` the fiscal year that
    begins in it); `year_end` (the month a fiscal year ends) groups the sales by the taxable year
    they fall in; `facilities` (filer.read_facilities) gives each worksheet its Part I, whose lines
    5 and 6 state product facts for the facility's sales. Each sale is decided with its taxable
    year's first day, which the 2025 act's rules read; without either, a calendar year is assumed."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return _compute(catalog, ledger, ruleset, tax_year, as_of, year_end, facilities)


def _compute(catalog: list[Row], ledger: Iterable[Row], ruleset: RuleSet, tax_year: TaxYear | int | None,
             as_of: dt.date | None, year_end: int | None, facilities: dict[str, Facility] | None) -> CreditRun:
    if isinstance(tax_year, int):
        tax_year = TaxYear.beginning_in(tax_year, year_end or 12)
    products = {row.product: row for row in catalog}
    spool = Spool()  # the per-sale lists, in bounded memory
    errors: Detail[R.Problem] = spool.detail()
    outside: Detail[Row] = spool.detail()
    sheets: dict[tuple, Worksheet] = {}
    rows = 0
    with Decider(ruleset) as decider:
        calc = Calculator(ruleset, decider, as_of, spool)
        for sale in ledger:
            rows += 1
            problem = problem_of(sale.problem) if sale.problem else check_sale(sale, products, ruleset)
            if problem:
                errors.append(problem)
                continue
            sold = sale.roles[SALE_DATE]
            if tax_year is not None and not tax_year.contains(sold):
                outside.append(sale)
                continue
            year = tax_year or (TaxYear.of(sold, year_end) if year_end else None)
            facility = sale.roles[FACILITY]
            sheet = sheets.get((facility, year.start if year else None))
            if sheet is None:
                sheet = sheets[facility, year.start if year else None] = Worksheet(facility, year, {
                    line: LineTotal(ruleset.credits[line], spool.detail()) for line in ruleset.line_order()
                    if line in ruleset.credits}, spool.detail(), spool.detail(), ruleset.role("part_iv_line"))
            product = products[sale.roles[PRODUCT]]
            when = calc.when(product, sale, year)
            fed = fed_facts(facilities, facility, product.facts, sale.where, product.product)  # Part I, lines 5, 6
            if isinstance(fed, R.Problem):
                errors.append(fed)
                continue
            record = calc.record(product, sale, when, fed)
            if isinstance(record, R.ErrorRecord):
                errors.append(R.Problem(sale.where, record.error.message, record.error.fix, record.error.key))
                continue
            if record.outcome == R.UNDETERMINED:
                sheet.defer(Pending(sale, record, calc.at_stake(product, sale, record, when)))
                continue
            if record.outcome != R.QUALIFIED:
                sheet.reject(Rejected(sale, record, calc.rejected_base(product, sale, record, when)))
                continue
            try:
                amount = calc.amount(product, sale, record, when)
            except _Missing as missing:
                errors.append(R.Problem(sale.where, missing.message, missing.fix, missing.key))
                continue
            if amount.line not in sheet.lines:
                sheet.lines[amount.line] = LineTotal(ruleset.credits[amount.line], spool.detail())
            sheet.add(sheet.lines[amount.line], amount)
        ident = decider.ident
    spool.seal()
    ordered = [sheets[k] for k in sorted(sheets, key=lambda k: (k[0], k[1] or dt.date.min))]
    run = CreditRun(ordered, errors, outside, tax_year, ident, as_of, rows=rows)
    attach(run, facilities)  # Part I of each worksheet, from the facilities file
    return run
